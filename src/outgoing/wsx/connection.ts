import type { Logger } from 'pino';
import { SwitchboardError, type SwitchboardErrorOptions } from '../../errors/index.js';
import type { OutgoingConfig } from './config.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import { RemoteSocket, type SocketEvents } from './remote-socket.js';
import type { SocketState, SocketStats } from './socket-link.js';
import type { RemoteCredentials } from './zato-session.js';
import type { WsxResponse } from '../../protocol/index.js';

/** Messages, reconnects and ignored frames of an outgoing connection (plain counters, read by the metrics at scrape time). */
export type OutgoingStats = SocketStats;

/** `client()` found no connected socket within `acquireTimeout`. */
export class AcquireTimeoutError extends SwitchboardError {
  declare readonly code: 'acquire_timeout';
  constructor(code: 'acquire_timeout', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** What {@link AcquireTimeoutError} says: the state the connection is in, its last error and next attempt. */
function acquireTimeoutMessage(name: string, state: ConnectionState): string {
  const detail = state.lastError ? `; last error: ${state.lastError}` : '';
  const next = state.nextAttemptAt ? `; next attempt at ${state.nextAttemptAt}` : '';
  return `Outgoing connection ${name} is ${state.state}, not connected${detail}${next}`;
}

/** An outgoing connection's live state, as the admin API shows it. */
export interface ConnectionState {
  /** `connected` when any socket is; else the most hopeful state of its sockets. */
  readonly state: SocketState;
  readonly connected: number;
  readonly poolSize: number;
  readonly connectedSince: string | undefined;
  readonly nextAttemptAt: string | undefined;
  readonly lastError: string | undefined;
  readonly reconnects: number;
}

/**
 * A lease on one socket of the pool, as `conn.client()` hands it out: `send()` on a plain remote writes the
 * message and resolves once it is written; on a Zato remote it is `invoke()`: sends `invoke-service` and resolves
 * with the reply. Use with `await using`, or call `release()`.
 */
export class OutgoingLease implements AsyncDisposable {
  readonly #socket: RemoteSocket;
  readonly #isZato: boolean;
  readonly #name: string;
  #released = false;

  constructor(socket: RemoteSocket, isZato: boolean, name: string) {
    this.#socket = socket;
    this.#isZato = isZato;
    this.#name = name;
  }

  /** Plain remote: writes `msg` (objects as JSON) and resolves with undefined. Zato remote: the same as `invoke`. */
  async send(msg: unknown): Promise<WsxResponse | undefined> {
    this.#checkLease();
    if (!this.#isZato) {
      await this.#socket.write(msg);
      return undefined;
    }
    return this.#socket.request(msg);
  }

  /** Sends a request to a Zato-protocol remote and resolves with its reply; on a plain remote, the same as `send`. */
  invoke(msg: unknown): Promise<WsxResponse | undefined> {
    return this.send(msg);
  }

  /** Returns the client to the pool; using it afterwards is an error. */
  release(): void {
    this.#released = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }

  #checkLease(): void {
    if (this.#released) throw new SwitchboardError('client_released', `This client of ${this.#name} was released`);
  }
}

interface Waiter {
  resolve(socket: RemoteSocket): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A named outgoing connection: `poolSize` sockets to the same remote. Clients are leased from the sockets that
 * are connected; a Zato remote multiplexes many requests on one socket (replies are correlated by id), so a
 * lease picks the socket with the fewest pending replies instead of locking it.
 */
export class OutgoingConnection {
  readonly config: OutgoingConfig;
  readonly sockets: RemoteSocket[];
  readonly #waiters = new Set<Waiter>();
  #next = 0;
  #stopped = false;

  constructor(
    config: OutgoingConfig,
    options: {
      events: SocketEvents;
      credentials: () => Promise<RemoteCredentials | undefined>;
      logger: Logger;
      stats: OutgoingStats;
      subKeys?: RemoteSubKeyStore | undefined;
    },
  ) {
    this.config = config;
    this.sockets = Array.from({ length: config.poolSize }, (_, index) => {
      const socket = new RemoteSocket({ index, config, ...options });
      socket.on('state', (state: SocketState) => {
        if (state === 'connected') this.#serveWaiters();
      });
      return socket;
    });
  }

  start(): void {
    for (const socket of this.sockets) socket.start();
  }

  /**
   * Closes every socket deliberately; waiting `client()` calls fail at once. `unsubscribe` ends the remote
   * subscriptions too (see `RemoteSocket.stop`).
   */
  stop(reason?: string, unsubscribe = true): void {
    this.#stopped = true;
    for (const socket of this.sockets) socket.stop(reason, unsubscribe);
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new SwitchboardError('connection_stopped', `Outgoing connection ${this.config.name} was stopped`));
    }
    this.#waiters.clear();
  }

  /** Leases a client of a connected socket, waiting up to `acquireTimeout` for one; then a typed `acquire_timeout`. */
  async client(): Promise<OutgoingLease> {
    const socket = this.#pick() ?? (await this.#wait());
    return new OutgoingLease(socket, this.config.isZato, this.config.name);
  }

  state(): ConnectionState {
    const connected = this.sockets.filter((s) => s.state === 'connected');
    const order: SocketState[] = ['connected', 'connecting', 'reconnecting', 'stopped'];
    const state = order.find((st) => this.sockets.some((s) => s.state === st)) ?? 'stopped';
    const since = connected.map((s) => s.connectedSince?.getTime() ?? Infinity).reduce((a, b) => Math.min(a, b), Infinity);
    const next = this.sockets.map((s) => s.nextAttemptAt?.getTime() ?? Infinity).reduce((a, b) => Math.min(a, b), Infinity);
    return {
      state,
      connected: connected.length,
      poolSize: this.sockets.length,
      connectedSince: Number.isFinite(since) ? new Date(since).toISOString() : undefined,
      nextAttemptAt: Number.isFinite(next) && state !== 'connected' ? new Date(next).toISOString() : undefined,
      lastError: this.sockets.find((s) => s.lastError)?.lastError,
      reconnects: this.sockets.reduce((n, s) => n + s.reconnects, 0),
    };
  }

  #pick(): RemoteSocket | undefined {
    let best: RemoteSocket | undefined;
    for (let i = 0; i < this.sockets.length; i++) {
      const socket = this.sockets[(this.#next + i) % this.sockets.length]!;
      if (socket.state !== 'connected') continue;
      if (!best || socket.pendingCount < best.pendingCount) best = socket;
    }
    this.#next = (this.#next + 1) % this.sockets.length;
    return best;
  }

  #wait(): Promise<RemoteSocket> {
    if (this.#stopped)
      return Promise.reject(new SwitchboardError('connection_stopped', `Outgoing connection ${this.config.name} was stopped`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new AcquireTimeoutError('acquire_timeout', acquireTimeoutMessage(this.config.name, this.state())));
        }, this.config.acquireTimeout * 1000),
      };
      this.#waiters.add(waiter);
    });
  }

  #serveWaiters(): void {
    for (const waiter of this.#waiters) {
      const socket = this.#pick();
      if (!socket) return;
      clearTimeout(waiter.timer);
      this.#waiters.delete(waiter);
      waiter.resolve(socket);
    }
  }
}
