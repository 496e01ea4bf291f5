import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The machine's PostgreSQL (trust auth), for tests that open schemas of their own. scripts/run-tests.mjs sets
 * SWITCHBOARD_TEST_PG on both passes from the one setting a user gives (SWITCHBOARD_TEST_DB, the database of the
 * PostgreSQL pass), so both kinds of test use the same database.
 */
export const PG_BASE = process.env.SWITCHBOARD_TEST_PG ?? 'postgres://127.0.0.1:5432/test';

/** A fresh schema name, so that each test has tables of its own. */
export function schemaName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The store URL of a schema on the test database. */
export function pgUrl(schema: string): string {
  return `${PG_BASE}?schema=${schema}`;
}

/** The test database's URL for a pg client of the test's own. */
export function adminUrl(): string {
  const url = new URL(PG_BASE);
  // pg takes the user from $USER only; the test machine's trust auth accepts postgres.
  if (!url.username) url.username = process.env.PGUSER ?? 'postgres';
  return url.toString();
}

/** Runs one statement on its own connection to the test database. */
export async function pgQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await pgQuery(`drop schema if exists "${schema}" cascade`);
}

/**
 * Why the PostgreSQL tests cannot run, or undefined when they can. Under `CI=true` the tests must not skip: an
 * unreachable PostgreSQL throws, so the run fails.
 */
export async function postgresUnavailable(): Promise<string | undefined> {
  try {
    await pgQuery('select 1');
    return undefined;
  } catch (err) {
    const why = `PostgreSQL at ${PG_BASE} is not reachable: ${err instanceof Error ? err.message || String(err) : String(err)}`;
    if (process.env.CI === 'true') throw new Error(`${why} (CI=true: the PostgreSQL tests must run)`, { cause: err });
    return why;
  }
}
