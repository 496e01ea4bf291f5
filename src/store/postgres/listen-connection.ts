import { once } from 'node:events';
import { Socket } from 'node:net';
import pg from 'pg';
import { KEEPALIVE_OPTIONS, errorReason } from './open.js';
import { parsePostgresUrl } from './target.js';

/** Where and on what a LISTEN connection listens. */
export interface ListenConnectionOptions {
  /** A `postgres://` URL; a `?schema=` parameter is ignored (LISTEN is per database). */
  readonly connectionString: string;
  /** `application_name`, which `pg_stat_activity` shows. */
  readonly applicationName: string;
  readonly channels: readonly string[];
  /** How long connecting and LISTENing may take. */
  readonly connectTimeoutMs: number;
}

/** What a LISTEN connection reports; neither is called after `destroy()`. */
export interface ListenEvents {
  notification(channel: string, payload: string): void;
  /** The connection failed or ended after it was listening; called at most once. */
  lost(reason: string): void;
}

/**
 * One PostgreSQL connection of its own (never pooled, never in a transaction: a listener inside a transaction hears
 * nothing until it ends) that LISTENs on channels. One connection, one attempt: after a loss, open a new one.
 */
export class ListenConnection {
  // pg is handed the socket rather than making its own so that destroy() can close it in any state, connecting
  // included, which pg's own end() does not do.
  readonly #socket = new Socket();
  readonly #client: pg.Client;
  readonly #options: ListenConnectionOptions;
  readonly #events: ListenEvents;
  readonly #where: string;
  #listening = false;
  #gone = false;

  /** Throws on a URL that is not a valid `postgres://` URL. */
  constructor(options: ListenConnectionOptions, events: ListenEvents) {
    const target = parsePostgresUrl(options.connectionString);
    this.#options = options;
    this.#events = events;
    this.#where = `${target.host}:${target.port}, database ${target.database}`;
    this.#client = new pg.Client({
      connectionString: target.connectionString,
      application_name: options.applicationName,
      options: KEEPALIVE_OPTIONS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: options.connectTimeoutMs,
      stream: () => this.#socket,
    });
    this.#client.on('error', (err) => this.#lose(errorReason(err)));
    this.#client.on('end', () => this.#lose('the connection ended'));
    this.#client.on('notification', (message) => {
      if (!this.#gone) this.#events.notification(message.channel, message.payload ?? '');
    });
  }

  /** Connects and LISTENs on every channel; rejects naming host and port. Called once. */
  async listen(): Promise<void> {
    // A destroyed net.Socket that is asked to connect comes back to life: never connect after destroy().
    if (this.#gone) throw new Error(`Cannot LISTEN on PostgreSQL at ${this.#where}: closed`);
    try {
      await this.#client.connect();
      const statements = this.#options.channels.map((c) => `listen ${this.#client.escapeIdentifier(c)}`);
      await this.#client.query(statements.join('; '));
    } catch (err) {
      await this.destroy();
      throw new Error(`Cannot LISTEN on PostgreSQL at ${this.#where}: ${errorReason(err)}`, { cause: err });
    }
    if (this.#gone) throw new Error(`Cannot LISTEN on PostgreSQL at ${this.#where}: closed`);
    this.#listening = true;
  }

  /** Resolves when a `select 1` is answered within `timeoutMs`; rejects otherwise (the caller then destroys). */
  async probe(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to a probe within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#client.query('select 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket at once, in any state; resolves once it is closed. Idempotent. */
  async destroy(): Promise<void> {
    this.#gone = true;
    this.#socket.destroy();
    if (!this.#socket.closed) await once(this.#socket, 'close').catch(() => undefined);
  }

  #lose(reason: string): void {
    if (this.#gone) return;
    // A failure before listening is listen()'s rejection; the client's events then only repeat it.
    if (!this.#listening) return;
    this.#gone = true;
    this.#socket.destroy();
    this.#events.lost(reason);
  }
}
