// The database a test server uses. On the suite's SQLite pass nothing changes: a server keeps its SQLite file in its
// own temp dir. On the PostgreSQL pass (scripts/run-tests.mjs sets SWITCHBOARD_TEST_DB to a postgres:// URL), each
// server gets a schema of its own in that database, named from its temp dir, so a restart on the same dir reuses the
// schema and two servers never share one; the schema is dropped when the dir is removed.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';

/** The PostgreSQL database of this pass (a postgres:// URL), or undefined on the SQLite pass. */
const TEST_PG_URL: string | undefined = process.env.SWITCHBOARD_TEST_DB?.startsWith('postgres')
  ? process.env.SWITCHBOARD_TEST_DB
  : undefined;

/** Which pass this is, for skip reasons and messages. */
const onPostgres = TEST_PG_URL !== undefined;

/**
 * Options for `test()` / `describe()` that skip a test on the PostgreSQL pass: for tests about SQLite itself (its
 * file, its locking, the SQLite repositories opened by path). The reason is printed in the run's output.
 */
export function sqliteOnly(reason: string): { skip: string | false } {
  return { skip: onPostgres ? `SQLite only: ${reason}` : false };
}

/** Options for `test()` / `describe()` that skip a test on the SQLite pass: for tests about PostgreSQL itself. */
export function postgresOnly(reason: string): { skip: string | false } {
  return { skip: onPostgres ? false : `PostgreSQL only: ${reason}` };
}

/** The PostgreSQL database of this pass, or undefined on the SQLite pass. */
export function testPostgresUrl(): string | undefined {
  return TEST_PG_URL;
}

// Names of this run's schemas start with the run's id (set by run-tests.mjs), so the run can drop what a crashed
// test left behind without touching another run's schemas in the same database.
const RUN = (process.env.SWITCHBOARD_TEST_RUN ?? 'local')
  .toLowerCase()
  .replace(/[^a-z0-9]/g, '')
  .slice(0, 8);

/** The test file's name as an identifier fragment (`pubsub-crash.test.js` → `pubsub_crash`). */
function fileTag(): string {
  const file = basename(process.argv[1] ?? 'node').replace(/\.test\.[cm]?js$/, '');
  return file
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
}

/** The schema of a server whose data lives in `dir`: lower case, at most 63 bytes, the same for the same dir. */
export function testSchema(dir: string): string {
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  return `sbt_${RUN}_${fileTag()}_${hash}`;
}

/** The `db` setting for a server in `dir`: a schema of its own on the PostgreSQL pass, else nothing (SQLite). */
export function testDb(dir: string): { db?: string } {
  if (!TEST_PG_URL) return {};
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', testSchema(dir));
  return { db: url.toString() };
}

/** The same as environment variables, for tests that spawn `dist/src/server/main.js`. */
export function testDbEnv(dir: string): Record<string, string> {
  const { db } = testDb(dir);
  return db ? { SWITCHBOARD_DB: db } : {};
}

/** Runs one statement on the pass's PostgreSQL database. */
async function onTestDatabase(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops the schema of the server in `dir` (on the PostgreSQL pass; nothing on SQLite). Safe to call twice. */
export async function dropTestDb(dir: string): Promise<void> {
  if (!TEST_PG_URL) return;
  await onTestDatabase(`DROP SCHEMA IF EXISTS "${testSchema(dir)}" CASCADE`);
}

/**
 * The first row of `sql` run on a server's database (its `db` setting): the SQLite file, or its schema on
 * PostgreSQL. For tests that check what is stored, not how it is read back through the API.
 */
export async function queryStored<T>(db: string, sql: string): Promise<T | undefined> {
  if (!db.startsWith('postgres')) {
    const file = new SQLite(db, { readonly: true });
    try {
      return file.prepare(sql).get() as T | undefined;
    } finally {
      file.close();
    }
  }
  const url = new URL(db);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    if (schema) await client.query(`SET search_path TO "${schema}"`);
    return (await client.query(sql)).rows[0] as T | undefined;
  } finally {
    await client.end();
  }
}
