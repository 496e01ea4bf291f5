import { Kysely, sql } from 'kysely';
import { SchemaScopedPostgresDialect } from './schema-introspector.js';
import pg from 'pg';
import type { Database } from '../schema.js';
import { guardedDialect } from '../guarded-driver.js';
import { StoreHealth } from '../store-health.js';
import { isStoreUnavailable } from '../store-errors.js';
import { parsePostgresUrl, type PostgresTarget } from './target.js';

/** How a server's pool to PostgreSQL is set up. */
export interface PostgresPoolOptions {
  /** The most connections the pool opens (cluster-notes §3.1: about 12 per server with the listener). */
  readonly poolMax: number;
  /** `application_name`, which `pg_stat_activity` shows. */
  readonly applicationName: string;
}

/** An open, reachable PostgreSQL database. */
export interface OpenedPostgres {
  readonly db: Kysely<Database>;
  readonly target: PostgresTarget;
  /** The schema the tables live in: the URL's, or the connection's `current_schema()`. */
  readonly schema: string;
  /** The `-c name=value …` server options of every pooled connection. */
  readonly options: string;
  /** Whether the last query reached the database. */
  readonly health: StoreHealth;
}

// Every connection's server-side keepalives (cluster-notes §3.1): a partitioned client's session (with its locks
// and its LISTENs) goes within ~25 s, not the server default's 2.2 h.
const KEEPALIVE_SETTINGS = ['tcp_keepalives_idle=10', 'tcp_keepalives_interval=5', 'tcp_keepalives_count=3'];

// And for every pooled connection: no statement or idle transaction can hold a connection or a lock for ever.
const SESSION_SETTINGS = [
  'statement_timeout=30000',
  'idle_in_transaction_session_timeout=60000',
  'lock_timeout=10000',
  ...KEEPALIVE_SETTINGS,
];

/** pg's `options` (libpq's `-c name=value …`) for a set of session settings. */
function commandLineOptions(settings: readonly string[]): string {
  return settings.map((s) => `-c ${s}`).join(' ');
}

/** The `options` of a connection outside the pool (the cluster's LISTEN connection): keepalives only. */
export const KEEPALIVE_OPTIONS = commandLineOptions(KEEPALIVE_SETTINGS);

const INT8_OID = 20;

/**
 * pg returns `bigint` (and `count(*)`) as strings. Every bigint we store (epoch ms, sequences, counters) is below
 * 2^53, so it is parsed to a number here, for every query, rather than in each repository; a value that would
 * lose precision is an error, never a silently wrong number. `numeric` (what `sum(bigint)` returns) stays a string.
 */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`A bigint from PostgreSQL (${value}) is beyond Number.MAX_SAFE_INTEGER`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Opens a pool to the URL's database, checks it answers and creates the URL's schema; throws naming the target. */
export async function openPostgres(location: string, options: PostgresPoolOptions): Promise<OpenedPostgres> {
  const target = parsePostgresUrl(location);
  const settings = target.schema ? [`search_path=${target.schema}`, ...SESSION_SETTINGS] : SESSION_SETTINGS;
  const serverOptions = commandLineOptions(settings);
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.poolMax,
    application_name: options.applicationName,
    options: serverOptions,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle client's error (the server restarted, the connection was terminated) is emitted on the pool; without
  // a listener it would end the process. The pool drops that client and the next query gets a fresh one.
  pool.on('error', () => undefined);
  // pg-pool takes its listener off a client it hands out: a checked-out client whose connection dies (PostgreSQL
  // restarted, the backend terminated) would emit `error` with no listener and end the process. The query in flight
  // fails on its own (store_unavailable), and the pool discards the client when it comes back.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const health = new StoreHealth();
  const db = new Kysely<Database>({ dialect: guardedDialect(new SchemaScopedPostgresDialect({ pool }), health) });
  try {
    return { db, target, schema: await prepareSchema(db, target.schema), options: serverOptions, health };
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new Error(`Cannot use PostgreSQL at ${describe(target)}: ${errorReason(err)}`, { cause: err });
  }
}

/** `host:port, database db (schema s)`, as start-up errors name the target. */
function describe(target: PostgresTarget): string {
  const schema = target.schema ? `, schema ${target.schema}` : '';
  return `${target.host}:${target.port}, database ${target.database}${schema}`;
}

/** Creates the URL's schema, or finds the default one; either way the first round trip proves the server answers. */
async function prepareSchema(db: Kysely<Database>, schema: string | undefined): Promise<string> {
  if (!schema) {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = rows[0]?.schema;
    if (!current) throw new Error('the search_path names no existing schema: add ?schema=NAME to the URL');
    return current;
  }
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    // Servers starting at once race on `if not exists` (pg_namespace's unique index): the schema exists either way.
    if (!isDuplicate(err)) throw err;
  }
  return schema;
}

function isDuplicate(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === '42P06';
}

/** The error's own words; a refused connection can be an AggregateError (IPv4 and IPv6) with an empty message. */
export function errorReason(err: unknown): string {
  // At start-up the driver's own words say more than `store_unavailable`'s advice to try again.
  if (isStoreUnavailable(err) && err.cause !== undefined) return errorReason(err.cause);
  if (err instanceof AggregateError && err.errors.length > 0) return errorReason(err.errors[0]);
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}
