import { EventEmitter } from 'node:events';
import type SQLite from 'better-sqlite3';
import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations.js';
import { openPostgres } from './postgres/open.js';
import { isPostgresUrl } from './postgres/target.js';
import { openSqlite } from './sqlite/open.js';
import type { StoreHealth } from './store-health.js';

/** A change to a configuration object, emitted after it is committed. */
export interface ConfigChange<T = unknown> {
  readonly kind: string;
  readonly op: 'create' | 'update' | 'delete';
  readonly name: string;
  readonly previous: T | undefined;
  readonly current: T | undefined;
  /** True when another server of the cluster made the change (src/cluster re-announces it here). */
  readonly remote?: boolean;
}

/** Where the store keeps its data. */
export interface StoreOptions {
  /**
   * A SQLite file path (created with its directory), `:memory:`, or a `postgres://user:password@host:port/db` URL;
   * `?schema=NAME` on the URL puts every table in that schema (created if missing).
   */
  readonly path: string;
  /** PostgreSQL only: the most pooled connections (default 10). */
  readonly poolMax?: number;
  /** PostgreSQL only: the `application_name` pg_stat_activity shows (default `switchboard`). */
  readonly applicationName?: string;
}

/** The database engines the store runs on. */
export type StoreDialect = 'sqlite' | 'postgres';

interface Opened {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly location: string;
  readonly sqlite?: SQLite.Database;
  readonly release?: () => void;
  /** PostgreSQL: where Kysely's migration tables are (its check for them would otherwise see every schema's). */
  readonly migrationSchema?: string;
  readonly postgres?: PostgresLocation;
  readonly health: StoreHealth;
}

/** Where a PostgreSQL store's tables are: what the cluster's own connections (LISTEN, locks) need. */
export interface PostgresLocation {
  /** The URL for pg (without `?schema=`), password included. */
  readonly connectionString: string;
  /** The schema the tables live in. */
  readonly schema: string;
  /** Server options (`-c name=value …`) every connection of the store uses: search_path, timeouts, keepalives. */
  readonly options: string;
}

/**
 * The database. Callers use the repositories; `db` is the Kysely instance for them.
 * Emits `change` with a `ConfigChange` after every committed configuration write.
 */
export class Store extends EventEmitter {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** The SQLite path, or the PostgreSQL URL with its password masked. */
  readonly location: string;
  readonly #sqlite: SQLite.Database | undefined;
  readonly #release: () => void;
  readonly #migrationSchema: string | undefined;
  /** PostgreSQL only: where its tables are, for connections of the cluster's own. */
  readonly postgres: PostgresLocation | undefined;
  readonly #statements = new Map<string, SQLite.Statement>();
  readonly #health: StoreHealth;

  private constructor(opened: Opened) {
    super();
    this.db = opened.db;
    this.dialect = opened.dialect;
    this.location = opened.location;
    this.#sqlite = opened.sqlite;
    this.#release = opened.release ?? (() => undefined);
    this.#migrationSchema = opened.migrationSchema;
    this.postgres = opened.postgres;
    this.#health = opened.health;
  }

  /**
   * False since a query found the database out of reach (503 `store_unavailable`), until one succeeds again: the
   * last known state, which costs no query of its own.
   */
  get reachable(): boolean {
    return this.#health.reachable;
  }

  /**
   * SQLite only: a prepared statement, cached by its SQL, for hot paths where building and preparing each query
   * (what Kysely does) costs more than running it. Run it only inside a `db` transaction: that holds the one
   * connection, so the statement cannot land in the middle of someone else's transaction.
   */
  prepared(sql: string): SQLite.Statement {
    if (!this.#sqlite) throw new Error(`Store.prepared() is SQLite-only; this store is ${this.dialect}`);
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#sqlite.prepare(sql)));
    return statement;
  }

  /** Opens (creating if needed) and migrates the database. */
  static async open(options: StoreOptions): Promise<Store> {
    const store = new Store(await connect(options));
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Applies pending migrations; throws if one fails. */
  async migrate(): Promise<void> {
    if (this.dialect === 'sqlite') return this.#runMigrations(this.db);
    // A migration may rebuild a large table, and a server may wait for another's migration lock: neither may be cut
    // off by the pool's statement and lock timeouts. Kysely's Migrator runs on the one connection it is handed.
    await this.db.connection().execute(async (connection) => {
      await sql`set statement_timeout = 0`.execute(connection);
      await sql`set lock_timeout = 0`.execute(connection);
      try {
        await this.#runMigrations(connection);
      } finally {
        await sql`reset statement_timeout`.execute(connection);
        await sql`reset lock_timeout`.execute(connection);
      }
    });
  }

  async #runMigrations(db: Kysely<Database>): Promise<void> {
    const { error, results } = await new Migrator({
      db,
      provider: migrationProvider,
      migrationTableSchema: this.#migrationSchema,
    }).migrateToLatest();
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

  /** Closes the database (on PostgreSQL, ends the pool) and releases the SQLite file for another server. */
  async close(): Promise<void> {
    try {
      await this.db.destroy();
    } finally {
      this.#release();
    }
  }
}

async function connect(options: StoreOptions): Promise<Opened> {
  if (!isPostgresUrl(options.path)) return { ...openSqlite(options.path), dialect: 'sqlite', location: options.path };
  const {
    db,
    target,
    schema,
    options: serverOptions,
    health,
  } = await openPostgres(options.path, {
    poolMax: options.poolMax ?? 10,
    applicationName: options.applicationName ?? 'switchboard',
  });
  return {
    db,
    dialect: 'postgres',
    location: target.masked,
    migrationSchema: schema,
    health,
    postgres: { connectionString: target.connectionString, schema, options: serverOptions },
  };
}
