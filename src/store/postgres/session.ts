import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { PostgresLocation } from '../store.js';
import type { LockKey } from './cluster-repository.js';

/**
 * A dedicated connection that holds a server's session-level advisory locks (its name, the housekeeping role).
 * Never pooled: a pooled connection goes back to the pool and its locks with it. When the connection is lost, its
 * locks are gone (PostgreSQL frees them with the session): emits `lost` once, and the owner opens a new one.
 */
export class SessionConnection extends EventEmitter {
  readonly #client: pg.Client;
  #lost = false;
  #pid = 0;

  private constructor(client: pg.Client) {
    super();
    this.#client = client;
    const lose = (err?: Error) => {
      if (this.#lost) return;
      this.#lost = true;
      this.emit('lost', err?.message ?? 'connection ended');
    };
    client.on('error', lose);
    client.on('end', () => lose());
  }

  /** Connects; rejects when the database cannot be reached. */
  static async open(location: PostgresLocation, applicationName: string): Promise<SessionConnection> {
    const client = new pg.Client({
      connectionString: location.connectionString,
      application_name: applicationName.slice(0, 63),
      options: location.options,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      query_timeout: 10_000,
    });
    const session = new SessionConnection(client);
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      session.#pid = rows[0]!.pid;
    } catch (err) {
      session.#lost = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    return session;
  }

  /** The connection's backend pid (what pg_locks and pg_stat_activity show). */
  get pid(): number {
    return this.#pid;
  }

  /** False once the connection was lost: its locks are gone. */
  get alive(): boolean {
    return !this.#lost;
  }

  /** Takes the lock if free (or already ours); never waits. */
  async tryLock(key: LockKey): Promise<boolean> {
    const { rows } = await this.#client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::int4, $2::int4) as ok', [
      key[0],
      key[1] | 0,
    ]);
    return rows[0]?.ok === true;
  }

  /** Releases one hold of the lock. */
  async unlock(key: LockKey): Promise<void> {
    await this.#client.query('select pg_advisory_unlock($1::int4, $2::int4)', [key[0], key[1] | 0]);
  }

  /** A round trip, so that a connection dropped without an event is noticed (node-postgres#3003). */
  async probe(): Promise<void> {
    await this.#client.query('select 1');
  }

  /** Ends the connection (its locks go with it). */
  async close(): Promise<void> {
    this.#lost = true;
    await this.#client.end().catch(() => undefined);
  }
}
