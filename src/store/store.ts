import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations.js';

/** A change to a configuration object, emitted after it is committed. */
export interface ConfigChange<T = unknown> {
  readonly kind: string;
  readonly op: 'create' | 'update' | 'delete';
  readonly name: string;
  readonly previous: T | undefined;
  readonly current: T | undefined;
}

/** Where the store keeps its data. */
export interface StoreOptions {
  /** A SQLite file path (created with its directory), or `:memory:`. */
  readonly path: string;
}

/**
 * The database. Callers use the repositories; `db` is the Kysely instance for them.
 * Emits `change` with a `ConfigChange` after every committed configuration write.
 */
export class Store extends EventEmitter {
  readonly db: Kysely<Database>;
  readonly dialect: 'sqlite';
  readonly location: string;
  readonly #sqlite: SQLite.Database;
  readonly #statements = new Map<string, SQLite.Statement>();

  private constructor(db: Kysely<Database>, sqlite: SQLite.Database, location: string) {
    super();
    this.db = db;
    this.#sqlite = sqlite;
    this.dialect = 'sqlite';
    this.location = location;
  }

  /**
   * A prepared statement, cached by its SQL, for hot paths where building and preparing each query (what Kysely
   * does) costs more than running it. Run it only inside a `db` transaction: that holds the one connection, so
   * the statement cannot land in the middle of someone else's transaction.
   */
  prepared(sql: string): SQLite.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#sqlite.prepare(sql)));
    return statement;
  }

  /** Opens (creating if needed) and migrates the database. */
  static async open(options: StoreOptions): Promise<Store> {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const sqlite = new SQLite(options.path);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a committed write survives power loss, which pub/sub's guaranteed delivery relies on.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    const store = new Store(db, sqlite, options.path);
    await store.migrate();
    return store;
  }

  /** Applies pending migrations; throws if one fails. */
  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.db, provider: migrationProvider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Reads a meta value. */
  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Writes a meta value. */
  async setMeta(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /** Announces a committed change to subscribers. */
  notify<T>(change: ConfigChange<T>): void {
    this.emit('change', change);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
