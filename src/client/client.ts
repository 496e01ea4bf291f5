import {
  CLIENT_ID_PREFIX,
  CLOSE_CODE,
  PUBSUB_SERVICE,
  backoffCeiling,
  clientFrameId,
  clientResponse,
  createSession,
  invokeService,
  newCid,
  parseServerFrame,
  type BackoffConfig,
} from '../protocol/client.js';
import { Calls, type CallOptions, type InternalCallOptions } from './calls.js';
import type { Listener } from './emitter.js';
import { AuthError, ClientError, ServerError, codeOfStatus, replyError } from './errors.js';
import { startKeepAlive } from './keep-alive.js';
import { Link, type ClientState } from './link.js';
import { publishRequest, type ClientEvents, type ConnectOptions, type PublishOptions, type RequestHandler } from './options.js';
import { SessionWait, jwtExpiry, refreshDelay, sessionSecret, type Credentials } from './session.js';
import { messageOf, webSocketClass, type CloseInfo } from './socket.js';
import type { Socket } from './socket.js';
import { Subscriptions, type MessageHandler, type SubscribeOptions, type Subscription } from './subscriptions.js';

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(messageOf(err)));

/**
 * A client of a WSX channel (`protocol: zato`), made by `connect()`: calls services, answers the server's
 * requests, publishes and subscribes, and stays connected — reconnecting with backoff, creating the session again
 * and resuming every subscription by its sub_key.
 */
export class SwitchboardClient {
  /** The `client_id` this client sends; the server lets it resume its subscriptions with it. */
  readonly clientId: string;
  /** Settles with the first connection (what `connect()` awaits). */
  readonly ready: Promise<void>;
  readonly #options: ConnectOptions;
  readonly #link: Link;
  readonly #calls: Calls;
  readonly #subs: Subscriptions;
  #credentials: Credentials;
  #secretUsed: string | undefined;
  #socket: Socket | undefined;
  #token: string | undefined;
  #wait: SessionWait | undefined;
  #gated = false;
  #held: Array<() => void> = [];
  #handler: RequestHandler | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #fatal: Error | undefined;
  #refreshFailures = 0;
  #keepAlive: { stop(): void } | undefined;
  readonly #backoff: BackoffConfig;
  #closing: Promise<void> | undefined;

  constructor(url: string, options: ConnectOptions = {}) {
    this.#options = options;
    this.clientId = options.clientId ?? `sb.${newCid()}`;
    this.#credentials = { username: options.username, secret: options.secret, token: options.token };
    const WebSocketClass = webSocketClass(options.WebSocket);
    this.#calls = new Calls({
      max: options.maxPending ?? 10_000,
      timeout: options.timeout ?? 10_000,
      window: options.maxInFlight ?? 100,
    });
    this.#link = new Link(
      {
        create: () => new WebSocketClass(url),
        establish: (socket) => this.#establish(socket),
        down: (socket, info) => this.#down(socket, info),
        finalError: (info) => this.#finalError(info),
      },
      options,
    );
    this.#backoff = { initial: 0.5, factor: 2, max: 30, ...options.reconnect };
    this.#subs = new Subscriptions({
      call: (service, request, callOptions) => this.#gateway(service, request, callOptions),
      ack: (socket, frameId) => this.#sendBound(socket, (token) => clientResponse(frameId, token, null)),
      current: () => this.#socket,
      error: (err) => this.#link.events.emit('error', err),
      backoff: this.#backoff,
    });
    for (const [name, listener] of Object.entries(options.on ?? {}))
      this.on(name as keyof ClientEvents, listener as Listener<ClientEvents[keyof ClientEvents]>);
    this.#link.events.on('closed', ({ error }) => {
      clearTimeout(this.#refreshTimer);
      this.#calls.failAll(new ClientError('connection_stopped', `The client is closed${error ? `: ${error.message}` : ''}`));
    });
    this.ready = this.#link.start();
    this.ready.catch(() => undefined);
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): ClientState {
    return this.#link.state;
  }

  /** Listens to a state event (or `error`); returns a function that stops listening. */
  on<K extends keyof ClientEvents>(name: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#link.events.on(name, listener);
  }

  /** Invokes `service` through the channel's gateway; resolves with its response, rejects with a `ClientError`. */
  async invoke<T = unknown>(service: string, request: unknown = {}, options: CallOptions = {}): Promise<T> {
    return (await this.#gateway(service, request, options)) as T;
  }

  /** Sends `data` as the request of the channel's own service (a channel without the gateway); resolves with the response. */
  async request<T = unknown>(data: unknown, options: CallOptions = {}): Promise<T> {
    const response = await this.#calls.request(data, options);
    if (!response.isOk) throw replyError(response);
    return response.data as T;
  }

  /** Publishes to `topic`; resolves with the message's `msg_id` once the server has it (GD: committed). */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<string> {
    const reply = await this.#gateway(PUBSUB_SERVICE.PUBLISH, publishRequest(topic, data, options), options);
    const msgId = typeof reply === 'object' && reply !== null ? (reply as { msg_id?: unknown }).msg_id : undefined;
    if (typeof msgId !== 'string') throw new ClientError('invalid_reply', 'The publish reply has no msg_id');
    return msgId;
  }

  /** Subscribes to `topic`: `handler` gets every message, in order, each once; kept across reconnects. */
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#subs.subscribe(topic, handler, options);
  }

  /** Answers the server's requests with `handler`'s result (null without a handler); returns a function that removes it. */
  onRequest(handler: RequestHandler): () => void {
    this.#handler = handler;
    return () => {
      if (this.#handler === handler) this.#handler = undefined;
    };
  }

  /**
   * Sends `create-session` again on the open connection, with `token` (kept for later reconnects) or the token
   * provider's next token: a JWT refresh. Calls made meanwhile wait for the new session.
   */
  refresh(token?: string): Promise<void> {
    if (token !== undefined) this.#credentials = { ...this.#credentials, token };
    const socket = this.#socket;
    if (!socket) return Promise.resolve();
    this.#refreshing ??= this.#refresh(socket).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /**
   * Closes for good: subscriptions not made with `keepOnClose` are removed from the server, waiting calls are
   * rejected with `connection_stopped`, and no reconnect follows.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#socket) await this.#subs.closeAll(Math.min(2000, this.#options.timeout ?? 2000));
      clearTimeout(this.#refreshTimer);
      await this.#link.close();
    })();
    return this.#closing;
  }

  async #gateway(service: string, request: unknown, options: InternalCallOptions = {}): Promise<unknown> {
    const response = await this.#calls.request({ service, request }, options);
    if (!response.isOk) throw replyError(response);
    return response.data;
  }

  async #establish(socket: Socket): Promise<void> {
    socket.onText((text) => this.#onText(socket, text));
    const closed = socket.closed.then((info): never => {
      throw new ClientError('not_connected', `The connection closed while the session was being set up (${info.code})`, {
        closeCode: info.code,
      });
    });
    closed.catch(() => undefined);
    const session = this.#createSession(socket);
    session.catch(() => undefined);
    this.#token = await Promise.race([session, closed]);
    this.#socket = socket;
    this.#calls.ready(socket, (s, id, data) => s.send(invokeService(id, this.#token, data)));
    await Promise.race([this.#subs.resumeAll(), closed]);
    this.#scheduleRefresh();
    const keepAlive = this.#options.keepAlive;
    if (!keepAlive) return;
    // Any reply proves the server is there, an error too.
    const ping = (timeout: number) => this.#calls.request({ service: 'zato.ping', request: {} }, { timeout, resend: false });
    this.#keepAlive = startKeepAlive(keepAlive === true ? {} : keepAlive, ping, () =>
      socket.abandon('No answer to keep-alive calls'),
    );
  }

  async #createSession(socket: Socket): Promise<string> {
    const credentials = await sessionSecret(this.#credentials);
    this.#secretUsed = credentials?.secret;
    const id = clientFrameId(CLIENT_ID_PREFIX.SESSION);
    const wait = new SessionWait(id, this.#link.connectTimeout);
    this.#wait = wait;
    const clientName = this.#options.clientName ?? 'switchboard-client';
    socket.send(createSession(id, { clientId: this.clientId, clientName, credentials }));
    try {
      return await wait.answered;
    } finally {
      if (this.#wait === wait) this.#wait = undefined;
    }
  }

  async #refresh(socket: Socket): Promise<void> {
    this.#gated = true;
    this.#calls.pause();
    const before = this.#secretUsed;
    try {
      const token = await this.#createSession(socket);
      if (this.#socket === socket) this.#token = token;
      this.#refreshFailures = 0;
    } catch (err) {
      // The server closes the connection after a refusal; the refusal ends the client.
      if (err instanceof AuthError) this.#fatal = err;
      else this.#refreshFailures++;
      // The token the session has is still the one it was opened with.
      this.#secretUsed = before;
      throw err;
    } finally {
      if (this.#socket === socket) {
        this.#gated = false;
        for (const send of this.#held.splice(0)) send();
        this.#calls.ready(socket, (s, id, data) => s.send(invokeService(id, this.#token, data)));
        this.#scheduleRefresh();
      }
    }
  }

  /**
   * With a token provider and a JWT that expires: a refresh before it does. A failed one is tried again after a
   * backoff, until the token has expired (the server then closes with 4004 and the reconnect asks again).
   */
  #scheduleRefresh(): void {
    clearTimeout(this.#refreshTimer);
    const secret = this.#secretUsed;
    if (typeof this.#credentials.token !== 'function' || secret === undefined) return;
    const expiresAt = jwtExpiry(secret);
    if (expiresAt === undefined || (this.#refreshFailures > 0 && expiresAt <= Date.now())) return;
    const due = refreshDelay(expiresAt, Date.now(), this.#options.refreshAhead ?? 30_000);
    const delay = this.#refreshFailures > 0 ? Math.max(due, backoffCeiling(this.#refreshFailures - 1, this.#backoff)) : due;
    this.#refreshTimer = setTimeout(() => {
      this.refresh().catch((err: unknown) => this.#link.events.emit('error', asError(err)));
    }, delay);
  }

  #down(socket: Socket, info: CloseInfo): void {
    if (this.#socket === socket) {
      this.#socket = undefined;
      this.#token = undefined;
    }
    this.#wait?.fail(new ClientError('not_connected', `The connection closed (${info.code})`, { closeCode: info.code }));
    this.#wait = undefined;
    this.#gated = false;
    this.#held = [];
    clearTimeout(this.#refreshTimer);
    this.#keepAlive?.stop();
    this.#keepAlive = undefined;
    this.#refreshFailures = 0;
    this.#calls.down(socket, info.code);
  }

  #finalError(info: CloseInfo): Error | undefined {
    if (this.#fatal) return this.#fatal;
    if (info.code !== CLOSE_CODE.CREDENTIALS_EXPIRED) return undefined;
    // A provider gives a fresh token on the reconnect; a token that has not changed since would be refused.
    const { token } = this.#credentials;
    if (typeof token === 'function' || (token !== undefined && token !== this.#secretUsed)) return undefined;
    return new AuthError(
      'token_expired',
      'The token expired (close 4004): give a token provider, or call refresh(token) in time',
      {
        closeCode: info.code,
      },
    );
  }

  /** Sends a frame that carries the session token, on `socket` only; held while a refresh is under way. */
  #sendBound(socket: Socket, build: (token: string | undefined) => string): void {
    if (socket !== this.#socket) return;
    if (this.#gated) {
      this.#held.push(() => this.#sendBound(socket, build));
      return;
    }
    socket.send(build(this.#token));
  }

  #onText(socket: Socket, text: string): void {
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      this.#link.events.emit('error', new ClientError('invalid_reply', `A frame from the server was ignored: ${parsed.reason}`));
      return;
    }
    const frame = parsed.frame;
    switch (frame.kind) {
      case 'reply':
      case 'bad-reply':
        if (this.#wait?.id === frame.inReplyTo) this.#wait.reply(frame);
        else this.#calls.reply(frame);
        return;
      case 'error-message':
        if (this.#wait) this.#wait.refused(frame.status, frame.code, frame.errorMessage);
        else {
          const code = frame.code ?? codeOfStatus(frame.status ?? 500);
          this.#link.events.emit('error', new ServerError(code, frame.errorMessage ?? code, { status: frame.status }));
        }
        return;
      case 'client-request':
        void this.#answer(socket, frame.id, frame.data);
        return;
      case 'pubsub':
        this.#subs.receive(socket, frame.id, frame.data);
    }
  }

  async #answer(socket: Socket, id: string, data: unknown): Promise<void> {
    let response: unknown = null;
    try {
      response = this.#handler ? await this.#handler(data, { id }) : null;
    } catch (err) {
      this.#link.events.emit('error', asError(err));
    }
    this.#sendBound(socket, (token) => {
      try {
        return clientResponse(id, token, response);
      } catch (err) {
        this.#link.events.emit(
          'error',
          new ClientError('invalid_data', `The request handler's result is not JSON: ${messageOf(err)}`),
        );
        return clientResponse(id, token, null);
      }
    });
  }
}
