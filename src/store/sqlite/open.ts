import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { lockDatabaseFile, type ReleaseLock } from './server-lock.js';
import { guardedDialect } from '../guarded-driver.js';
import { StoreHealth } from '../store-health.js';

/** An open SQLite database, locked to this process. */
export interface OpenedSqlite {
  readonly db: Kysely<Database>;
  readonly sqlite: SQLite.Database;
  readonly release: ReleaseLock;
  /** Whether the last query through Kysely reached the database. */
  readonly health: StoreHealth;
}

/** Opens (creating it and its directory if needed) a SQLite file, or `:memory:`; refuses a file another server uses. */
export function openSqlite(path: string): OpenedSqlite {
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(path), { recursive: true });
  const release = memory ? () => undefined : lockDatabaseFile(path);
  try {
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a committed write survives power loss, which pub/sub's guaranteed delivery relies on.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const health = new StoreHealth();
    const dialect = guardedDialect(new SqliteDialect({ database: sqlite }), health);
    return { db: new Kysely<Database>({ dialect }), sqlite, release, health };
  } catch (err) {
    release();
    throw err;
  }
}
