import type { UpgradeRefusal } from '../protocol/client.js';
import { AuthError, ClientError } from './errors.js';

/** How a WebSocket closed: the close frame's code and reason (1006 when there was none). */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/**
 * What the client needs of a WebSocket: the browser's `WebSocket` API (which `ws` implements too). Only the
 * members listed are used.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: CloseInfo) => void) | null;
  onerror: ((event: unknown) => void) | null;
  /**
   * The server's HTTP answer when it refused the upgrade. Browsers never tell (the WebSocket API hides it); the Node
   * entry sets it (see node.ts), so that refused credentials end the client instead of being retried.
   */
  readonly refusal?: UpgradeRefusal | undefined;
}

/** A WebSocket class: the browser's global `WebSocket`, or `ws`'s in Node (the Node entry passes it). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/** The WebSocket class of this platform, if it has one (browsers; Node 22). */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** The WebSocket class to use, or a clear error when the platform has none. */
export function webSocketClass(given: WebSocketConstructor | undefined): WebSocketConstructor {
  const ws = given ?? globalWebSocket();
  if (ws) return ws;
  throw new ClientError(
    'not_connected',
    'No WebSocket class here: pass options.WebSocket (the Node entry of switchboard/client uses ws)',
  );
}

function notOpened(info: CloseInfo): ClientError {
  const why = info.reason ? `${info.code} ${info.reason}` : String(info.code);
  return new ClientError('not_connected', `The WebSocket closed before it opened (${why})`, { closeCode: info.code });
}

// 401 and 403 do not change by trying again: they end the client (an AuthError) instead of starting a reconnect loop.
function refusalError(refusal: UpgradeRefusal): ClientError {
  const said = `HTTP ${refusal.status}${refusal.code ? ` ${refusal.code}` : ''}${refusal.message ? `: ${refusal.message}` : ''}`;
  const message = `The server refused the WebSocket upgrade (${said})`;
  if (refusal.status === 401 || refusal.status === 403)
    return new AuthError(refusal.code ?? 'invalid_credentials', message, { status: refusal.status });
  return new ClientError('not_connected', message, { status: refusal.status });
}

/** One WebSocket, open: its messages as text or bytes, and a promise of how it closed. */
export class Socket {
  readonly closed: Promise<CloseInfo>;
  #ws: WebSocketLike;
  #settle: (info: CloseInfo) => void;
  #abandoned = false;
  #onText: (text: string) => void = () => undefined;
  #onBytes: (bytes: Uint8Array) => void = () => undefined;

  private constructor(ws: WebSocketLike, closed: Promise<CloseInfo>, settle: (info: CloseInfo) => void) {
    this.#ws = ws;
    this.closed = closed;
    this.#settle = settle;
    ws.onmessage = (event) => {
      if (this.#abandoned) return;
      const data = event.data;
      if (typeof data === 'string') this.#onText(data);
      else if (data instanceof ArrayBuffer) this.#onBytes(new Uint8Array(data));
      else if (data instanceof Uint8Array) this.#onBytes(data);
    };
  }

  /**
   * Opens a socket; resolves once it is open, rejects with `not_connected` (the close code attached) when it
   * closes first or does not open within `timeoutMs`.
   */
  static async open(create: () => WebSocketLike | Promise<WebSocketLike>, timeoutMs: number): Promise<Socket> {
    let ws: WebSocketLike;
    try {
      ws = await create();
    } catch (err) {
      throw new ClientError('not_connected', `Cannot open the WebSocket: ${messageOf(err)}`, { cause: err });
    }
    return new Promise((resolve, reject) => {
      ws.binaryType = 'arraybuffer';
      let settle: (info: CloseInfo) => void = () => undefined;
      const closed = new Promise<CloseInfo>((r) => (settle = r));
      const timer = setTimeout(() => {
        ws.close();
        settle({ code: 1006, reason: `Not open within ${timeoutMs} ms` });
      }, timeoutMs);
      ws.onerror = () => undefined;
      ws.onclose = (event) => settle({ code: event.code, reason: event.reason });
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new Socket(ws, closed, settle));
      };
      void closed.then((info) => {
        clearTimeout(timer);
        reject(ws.refusal ? refusalError(ws.refusal) : notOpened(info));
      });
    });
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return !this.#abandoned && this.#ws.readyState === OPEN;
  }

  /**
   * Gives the socket up at once (the peer stopped answering): `closed` settles now with 1006 and `reason`, and
   * nothing more is read from it. A close handshake with a peer that is gone would wait for the platform's timeout.
   */
  abandon(reason: string): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#settle({ code: 1006, reason });
    this.close(1000, reason);
  }

  /** Where text messages go. */
  onText(handler: (text: string) => void): void {
    this.#onText = handler;
  }

  /** Where binary messages go. */
  onBytes(handler: (bytes: Uint8Array) => void): void {
    this.#onBytes = handler;
  }

  /** Sends a frame; false when the socket is no longer open (the frame is dropped). */
  send(data: string | Uint8Array): boolean {
    if (!this.isOpen) return false;
    try {
      this.#ws.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts the closing handshake (1000 unless said otherwise). */
  close(code = 1000, reason = ''): void {
    try {
      this.#ws.close(code, reason);
    } catch {
      // Already closing, or a code the platform refuses: the socket goes anyway.
    }
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
