import { WebSocket } from 'ws';

/** A frame as Zato's clients read it. */
export interface ZatoFrame {
  meta: { id?: string; msg_type?: string; status?: number; in_reply_to?: string; code?: string; error_message?: string };
  data?: any;
}

/** Options of `ZatoLikeClient`. */
export interface ZatoLikeOptions {
  username?: string;
  secret?: string;
  /** Extra `meta` fields sent with create-session. */
  sessionMeta?: Record<string, unknown>;
  /** Reconnect (and create a new session) when the socket closes, as both Zato clients do. */
  autoReconnect?: boolean;
  /** Stops reconnecting after this many reconnects (the JS client has no limit; a test needs one). */
  maxReconnects?: number;
}

/**
 * A client that behaves as `zatosource/zato-js-client` and `zato-websocket-client` do: replies are matched by
 * `meta.in_reply_to` only; whatever answers the `create-session` id is taken for the session (its `data.token`
 * becomes the token, even when undefined); frames that answer nothing are handed to `onMessage`; a new session is
 * created only after the socket closes (reconnecting at once). It never reads `meta.code` or `msg_type`.
 */
export class ZatoLikeClient {
  /** Tokens taken from create-session replies, in order: an `undefined` entry is a refusal taken for a session. */
  readonly sessions: Array<string | undefined> = [];
  /** Frames that matched no request (Zato's `on_message_received`). */
  readonly unmatched: ZatoFrame[] = [];
  /** Close codes seen, one per connection that ended. */
  readonly closes: number[] = [];
  reconnects = 0;
  token: string | undefined;
  #ws: WebSocket | undefined;
  #waiting = new Map<string, (frame: ZatoFrame) => void>();
  #seq = 0;
  #stopped = false;
  readonly #url: string;
  readonly #options: ZatoLikeOptions;

  constructor(url: string, options: ZatoLikeOptions = {}) {
    this.#url = url;
    this.#options = options;
  }

  /** Connects and sends create-session; resolves when the socket is open (not when the session exists). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#url);
      this.#ws = ws;
      ws.on('error', reject);
      ws.on('message', (data) => this.#onFrame(JSON.parse(data.toString()) as ZatoFrame));
      ws.on('close', (code) => this.#onClose(code));
      ws.once('open', () => {
        this.#createSession();
        resolve();
      });
    });
  }

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Invokes a service through the gateway; resolves with the reply, or undefined after `timeoutMs` (as Zato's clients). */
  invoke(service: string, request: unknown = {}, timeoutMs = 2000): Promise<ZatoFrame | undefined> {
    const id = this.#newId('zwsxc.inv.');
    this.#send({
      meta: { action: 'invoke-service', id, timestamp: new Date().toISOString(), token: this.token },
      data: { service, request },
    });
    return this.#await(id, timeoutMs);
  }

  /** Stops reconnecting and closes the socket. */
  stop(): void {
    this.#stopped = true;
    this.#ws?.close();
  }

  #createSession(): void {
    const id = this.#newId('zwsxc.auth.');
    const { username, secret, sessionMeta } = this.#options;
    this.#send({
      meta: {
        action: 'create-session',
        id,
        timestamp: new Date().toISOString(),
        username,
        secret,
        client_id: 'zato-like',
        ...sessionMeta,
      },
      data: {},
    });
    void this.#await(id, 5000).then((reply) => {
      if (!reply) return;
      // Exactly what both clients do: the reply to the auth request is the session.
      this.token = reply.data?.token;
      this.sessions.push(this.token);
    });
  }

  #await(id: string, timeoutMs: number): Promise<ZatoFrame | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  #onFrame(frame: ZatoFrame): void {
    const waiter = frame.meta?.in_reply_to === undefined ? undefined : this.#waiting.get(frame.meta.in_reply_to);
    if (!waiter) {
      this.unmatched.push(frame);
      return;
    }
    this.#waiting.delete(frame.meta.in_reply_to!);
    waiter(frame);
  }

  #onClose(code: number): void {
    this.closes.push(code);
    this.token = undefined;
    if (this.#stopped || !this.#options.autoReconnect) return;
    if (this.reconnects >= (this.#options.maxReconnects ?? 5)) return;
    this.reconnects++;
    this.start().catch(() => undefined);
  }

  #send(frame: unknown): void {
    if (this.isOpen) this.#ws!.send(JSON.stringify(frame));
  }

  #newId(prefix: string): string {
    return `${prefix}${(++this.#seq).toString(16).padStart(8, '0')}`;
  }
}
