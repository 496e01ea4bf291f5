import { backoffDelay, type BackoffConfig } from '../protocol/client.js';
import { Emitter } from './emitter.js';
import { AuthError, ClientError } from './errors.js';
import { Socket, messageOf, type CloseInfo, type WebSocketLike } from './socket.js';

/** Where a client is: opening its first connection, connected, waiting to reconnect, or closed for good. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The state events of a client (both protocols). */
export interface StateEvents {
  /** A connection attempt starts: `attempt` 1 is the very first, or the first after a connection was lost. */
  connecting: { readonly attempt: number };
  /** Connected (zato: the session created and the subscriptions resumed); `reconnected` after a loss. */
  open: { readonly reconnected: boolean };
  /**
   * The connection was lost or an attempt failed: the next attempt's number (the `attempt` of the `connecting` that
   * follows) and the milliseconds until it starts (`delayMs`, full jitter: random(0, min(max, initial × factorⁿ))).
   */
  reconnecting: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly code: number;
    readonly reason: string;
    readonly error: Error | undefined;
  };
  /** Closed for good: by `close()`, refused credentials, or reconnect attempts used up. */
  closed: { readonly code: number; readonly reason: string; readonly error: Error | undefined };
  /** A failure that closes nothing (a handler that threw, a frame that could not be read). */
  error: Error;
}

/** The reconnect policy, shared by `connect` and `connectPlain`. */
export interface ReconnectOptions {
  /** Backoff in seconds, full jitter: delay n is random(0, min(max, initial × factor^n)). Default 0.5 / 2 / 30. */
  readonly reconnect?: Partial<BackoffConfig> | undefined;
  /** Attempts in a row before giving up (`closed`); default: never give up. */
  readonly maxReconnectAttempts?: number | undefined;
  /** Milliseconds a connection (and a zato session) may take to open; default 10,000. */
  readonly connectTimeout?: number | undefined;
  /** Retry the first connection too, instead of rejecting `connect()` with `not_connected`; default false. */
  readonly retryFirstConnect?: boolean | undefined;
}

/** What a protocol does with each new socket: make it ready, clean up after it, and say when a close is final. */
export interface LinkHooks {
  /** A new WebSocket (async: a token provider may be asked first). */
  create(): WebSocketLike | Promise<WebSocketLike>;
  /** Makes an open socket ready (zato: the session). Rejects with an `AuthError` for a refusal: no reconnect. */
  establish(socket: Socket): Promise<void>;
  /** The socket is gone (after `establish` or not). */
  down(socket: Socket, info: CloseInfo): void;
  /** An error that ends the client, for a close code (zato: 4004 without a token provider); else undefined. */
  finalError?(info: CloseInfo): Error | undefined;
}

const DEFAULT_BACKOFF: BackoffConfig = { initial: 0.5, factor: 2, max: 30 };
const CLOSED_BY_CLIENT = 'Closed by the client';

/**
 * One client's connection, kept up: opens a socket, lets the protocol make it ready, waits for it to close, then
 * reconnects with exponential backoff and full jitter (`protocol/backoff.ts`) until closed for good.
 */
export class Link {
  readonly events = new Emitter<StateEvents>();
  readonly #hooks: LinkHooks;
  readonly #backoff: BackoffConfig;
  readonly #maxAttempts: number;
  readonly #connectTimeout: number;
  readonly #retryFirst: boolean;
  #state: ClientState = 'connecting';
  #socket: Socket | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #done: Promise<void> | undefined;

  constructor(hooks: LinkHooks, options: ReconnectOptions) {
    this.#hooks = hooks;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.#maxAttempts = options.maxReconnectAttempts ?? Number.POSITIVE_INFINITY;
    this.#connectTimeout = options.connectTimeout ?? 10_000;
    this.#retryFirst = options.retryFirstConnect ?? false;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The socket while it is ready (after `establish`), else undefined. */
  get socket(): Socket | undefined {
    return this.#state === 'open' ? this.#socket : undefined;
  }

  /** The connection timeout in milliseconds (also the zato session's). */
  get connectTimeout(): number {
    return this.#connectTimeout;
  }

  /** Starts the loop; resolves at the first `open`, rejects when the first attempt fails for good. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#done = this.#run(resolve, reject);
    });
  }

  /** Closes for good: the socket with 1000, no reconnect; resolves once `closed` was emitted. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#socket?.close(1000, CLOSED_BY_CLIENT);
    this.#wake?.();
    await this.#done;
  }

  async #run(opened: () => void, failed: (err: Error) => void): Promise<void> {
    let attempt = 0;
    let everOpen = false;
    let outcome: CloseInfo & { error: Error | undefined } = { code: 1000, reason: CLOSED_BY_CLIENT, error: undefined };
    // Attempts are numbered from 1 since the start or the last connection: `reconnecting` announces the number
    // that the next `connecting` carries (before the first connection, the first attempt was number 1).
    const numbered = (): number => (everOpen ? attempt : attempt + 1);
    for (;;) {
      if (this.#stopping) return this.#finish(outcome, undefined, failed);
      this.events.emit('connecting', { attempt: numbered() });
      outcome = await this.#once(() => {
        attempt = 0;
        const reconnected = everOpen;
        everOpen = true;
        this.#state = 'open';
        this.events.emit('open', { reconnected });
        opened();
      });
      const final = this.#finalError(outcome, everOpen, attempt);
      if (final !== undefined || this.#stopping) return this.#finish(outcome, this.#stopping ? undefined : final, failed);
      const delayMs = backoffDelay(attempt, this.#backoff);
      attempt++;
      this.#state = 'reconnecting';
      this.events.emit('reconnecting', { attempt: numbered(), delayMs, ...outcome });
      await this.#sleep(delayMs);
    }
  }

  /** Closed for good: by `close()` (no error), or for `error`. */
  #finish(outcome: CloseInfo, error: Error | undefined, failed: (err: Error) => void): void {
    this.#state = 'closed';
    this.events.emit('closed', { code: outcome.code, reason: error ? outcome.reason : CLOSED_BY_CLIENT, error });
    failed(error ?? new ClientError('connection_stopped', 'The client was closed before it connected'));
  }

  /** One connection: opened, made ready, and waited on until it closes; how it ended. */
  async #once(ready: () => void): Promise<CloseInfo & { error: Error | undefined }> {
    let socket: Socket;
    try {
      socket = await Socket.open(() => this.#hooks.create(), this.#connectTimeout);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(messageOf(err));
      return { code: (err as ClientError).closeCode ?? 1006, reason: error.message, error };
    }
    this.#socket = socket;
    let error: Error | undefined;
    try {
      if (this.#stopping) socket.close(1000, CLOSED_BY_CLIENT);
      else {
        await this.#hooks.establish(socket);
        if (this.#stopping) socket.close(1000, CLOSED_BY_CLIENT);
        else ready();
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(messageOf(err));
      socket.close(1000, 'Session not created');
    }
    const info = await socket.closed;
    this.#socket = undefined;
    if (this.#state === 'open') this.#state = 'reconnecting';
    this.#hooks.down(socket, info);
    return { ...info, error };
  }

  /** Why this outcome ends the client, or undefined to reconnect. */
  #finalError(outcome: CloseInfo & { error: Error | undefined }, everOpen: boolean, attempt: number): Error | undefined {
    if (outcome.error instanceof AuthError) return outcome.error;
    const closeError = this.#hooks.finalError?.(outcome);
    if (closeError) return closeError;
    if (!everOpen && !this.#retryFirst)
      return outcome.error ?? new ClientError('not_connected', `The connection closed (${outcome.code} ${outcome.reason})`);
    if (attempt >= this.#maxAttempts)
      return new ClientError('not_connected', `Gave up after ${attempt} reconnect attempts`, { closeCode: outcome.code });
    return undefined;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
