import { CLOSE_CODE, decodePlain, parseJsonBounded, type PlainDataFormat } from '../protocol/client.js';
import type { Listener } from './emitter.js';
import { AuthError, ClientError } from './errors.js';
import { Link, type ClientState, type ReconnectOptions, type StateEvents } from './link.js';
import type { InitialListeners } from './options.js';
import type { TokenProvider } from './session.js';
import {
  messageOf,
  webSocketClass,
  type CloseInfo,
  type Socket,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';

/** Options of `connectPlain` (a channel with `protocol: plain`). */
export interface PlainOptions extends ReconnectOptions {
  /**
   * A JWT for a channel whose security is `jwt`: sent as `?access_token=` (browsers cannot set headers; the Node
   * entry sends `Authorization: Bearer`). A provider is asked again for every connection.
   */
  readonly token?: string | TokenProvider | undefined;
  /** `json` (the default): messages are sent and read as JSON; `text`: strings (and bytes) as they are. */
  readonly dataFormat?: PlainDataFormat | undefined;
  /** Messages that `send` may hold while there is no connection; default 1,000. */
  readonly maxQueued?: number | undefined;
  /** The WebSocket class; default the platform's (the Node entry uses `ws`). */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** Listeners added before the first connection. */
  readonly on?: InitialListeners<StateEvents> | undefined;
}

/** Opens a plain client's WebSocket with its token: how depends on the platform (the Node entry sends a header). */
export type PlainTransport = (url: string, token: string | undefined) => WebSocketLike;

/** Receives each message: parsed JSON (`dataFormat: json`), else the text, or the bytes of a binary frame. */
export type PlainMessageHandler = (data: unknown) => void;

interface Queued {
  readonly frame: string | Uint8Array;
  readonly sent: () => void;
  readonly failed: (err: Error) => void;
}

/** `url` with `access_token` set (the server takes a JWT there from clients that cannot set headers). */
function withAccessToken(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set('access_token', token);
  return u.toString();
}

/** The default transport: the platform's WebSocket, the token in the URL. */
export function queryTransport(WebSocketClass: WebSocketConstructor): PlainTransport {
  return (url, token) => new WebSocketClass(token === undefined ? url : withAccessToken(url, token));
}

/**
 * A client of a plain channel, made by `connectPlain()`: sends and receives messages with no envelope, and stays
 * connected with the same reconnect policy as `connect()`. Messages sent while disconnected wait (bounded) and go
 * out, in order, once connected again.
 */
export class PlainClient {
  /** Settles with the first connection (what `connectPlain()` awaits). */
  readonly ready: Promise<void>;
  readonly #link: Link;
  readonly #format: PlainDataFormat;
  readonly #maxQueued: number;
  readonly #queue: Queued[] = [];
  readonly #handlers = new Set<PlainMessageHandler>();
  #socket: Socket | undefined;
  #token: string | TokenProvider | undefined;
  /** The token the last connection was opened with. */
  #tokenUsed: string | undefined;

  constructor(url: string, options: PlainOptions = {}, transport?: PlainTransport) {
    this.#format = options.dataFormat ?? 'json';
    this.#maxQueued = options.maxQueued ?? 1000;
    this.#token = options.token;
    const open = transport ?? queryTransport(webSocketClass(options.WebSocket));
    this.#link = new Link(
      {
        create: async () => {
          this.#tokenUsed = typeof this.#token === 'function' ? await this.#token() : this.#token;
          return open(url, this.#tokenUsed);
        },
        establish: async (socket) => this.#establish(socket),
        down: () => (this.#socket = undefined),
        finalError: (info) => this.#finalError(info),
      },
      options,
    );
    for (const [name, listener] of Object.entries(options.on ?? {}))
      this.on(name as keyof StateEvents, listener as Listener<StateEvents[keyof StateEvents]>);
    this.#link.events.on('closed', () => {
      const err = new ClientError('connection_stopped', 'The client is closed');
      for (const q of this.#queue.splice(0)) q.failed(err);
    });
    this.ready = this.#link.start();
    this.ready.catch(() => undefined);
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): ClientState {
    return this.#link.state;
  }

  /** Listens to a state event (or `error`); returns a function that stops listening. */
  on<K extends keyof StateEvents>(name: K, listener: Listener<StateEvents[K]>): () => void {
    return this.#link.events.on(name, listener);
  }

  /** Calls `handler` with every message received; returns a function that removes it. */
  onMessage(handler: PlainMessageHandler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /**
   * Sends one message (JSON-encoded with `dataFormat: json`); resolves once written to a connection. While
   * disconnected it waits, at most `maxQueued` messages (then `send_buffer_full`).
   */
  send(data: unknown): Promise<void> {
    let frame: string | Uint8Array;
    try {
      frame = this.#encode(data);
    } catch (err) {
      return Promise.reject(err instanceof ClientError ? err : new ClientError('invalid_data', messageOf(err)));
    }
    if (this.#link.state === 'closed') return Promise.reject(new ClientError('connection_stopped', 'The client is closed'));
    if (this.#queue.length === 0 && this.#socket?.send(frame)) return Promise.resolve();
    if (this.#queue.length >= this.#maxQueued)
      return Promise.reject(new ClientError('send_buffer_full', `${this.#queue.length} messages wait for the connection`));
    return new Promise((sent, failed) => this.#queue.push({ frame, sent, failed }));
  }

  /**
   * Replaces the token; the next connection uses it (a plain channel reads it at the handshake only). Called before
   * a static token expires, it lets the client reconnect after the server's 4004 instead of closing.
   */
  setToken(token: string | TokenProvider): void {
    this.#token = token;
  }

  /** Closes for good; messages still waiting are rejected with `connection_stopped`. */
  close(): Promise<void> {
    return this.#link.close();
  }

  /**
   * The server closed with 4004 because the JWT expired: a provider gives a fresh one on the reconnect, and so does
   * `setToken()` called since; the same token again would be refused at every handshake (a reconnect loop).
   */
  #finalError(info: CloseInfo): Error | undefined {
    if (info.code !== CLOSE_CODE.CREDENTIALS_EXPIRED) return undefined;
    const token = this.#token;
    if (typeof token === 'function' || (token !== undefined && token !== this.#tokenUsed)) return undefined;
    return new AuthError('token_expired', 'The token expired (close 4004): give a token provider, or call setToken() in time', {
      closeCode: info.code,
    });
  }

  #encode(data: unknown): string | Uint8Array {
    if (this.#format === 'json') {
      const text = JSON.stringify(data) as string | undefined;
      if (text === undefined) throw new ClientError('invalid_data', 'The message cannot be written as JSON');
      return text;
    }
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    throw new ClientError('invalid_data', 'With dataFormat text a message is a string or a Uint8Array');
  }

  #establish(socket: Socket): void {
    socket.onText((text) => this.#deliver(this.#format === 'json' ? this.#json(text) : text));
    socket.onBytes((bytes) => {
      const decoded = decodePlain(bytes, true, this.#format);
      this.#deliver(decoded.ok ? decoded.value : decoded.text);
    });
    this.#socket = socket;
    while (this.#queue.length > 0 && socket.send(this.#queue[0]!.frame)) this.#queue.shift()!.sent();
  }

  #json(text: string): unknown {
    const parsed = parseJsonBounded(text);
    if (parsed.ok) return parsed.value;
    this.#link.events.emit(
      'error',
      new ClientError('invalid_reply', `A message is not JSON (${parsed.message}); passed on as text`),
    );
    return text;
  }

  #deliver(data: unknown): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler(data);
      } catch (err) {
        this.#link.events.emit('error', err instanceof Error ? err : new Error(messageOf(err)));
      }
    }
  }
}
