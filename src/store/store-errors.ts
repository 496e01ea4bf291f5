import { ConnectionClosedError, SwitchboardError } from '../errors/index.js';

// The one place a driver's error is read for "the database is out of reach" (issue 12): every query through Kysely
// passes here (guarded-driver.ts), and so does a group-commit round that failed (SQLite's prepared statements bypass
// Kysely). A caller then sees 503 `store_unavailable` with a clear message, never the driver's raw error.

// Socket-level failures: the server went away, or the network to it did.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs of a server that is shutting down, starting or has no connection for us: 57P01 admin shutdown (also
// pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect now (starting, recovering), 53300 too many
// connections. Class 08 (connection exception) is matched by prefix.
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

// pg reports a lost or timed-out connection by message only (pg/lib/client.js, pg-pool/index.js).
const PG_MESSAGES = [
  /^Connection terminated/,
  /is not queryable/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /^Connection ended/,
];

/** SQLSTATEs of a transaction the server rolled back for a conflict: 40P01 deadlock, 40001 serialization failure. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why `err` means the database cannot be reached now, or undefined when it is any other error. */
function unreachable(err: unknown): string | undefined {
  // A refused connection to a name with IPv4 and IPv6 addresses is an AggregateError of one error each.
  if (err instanceof AggregateError && err.errors.length > 0) return unreachable(err.errors[0]);
  if (!(err instanceof Error)) return undefined;
  const code = codeOf(err);
  if (code && (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08'))) return err.message || code;
  // SQLite: another process holds the file's write lock beyond the busy timeout (a backup, the sqlite3 shell).
  if (code?.startsWith('SQLITE_BUSY')) return `the database file is locked by another process (${err.message})`;
  if (PG_MESSAGES.some((m) => m.test(err.message))) return err.message;
  return undefined;
}

/** True for a `store_unavailable` error (the database was out of reach). */
export function isStoreUnavailable(err: unknown): err is SwitchboardError {
  return err instanceof SwitchboardError && err.code === 'store_unavailable';
}

/** True for a transaction the server rolled back for a deadlock or a serialization failure: run it again. */
export function isConflict(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CONFLICT_CODES.has(code);
}

/**
 * `err` as callers should see it: a driver error that means the database is out of reach becomes 503
 * `store_unavailable` (the driver's error kept as its cause, for the log); anything else is returned as it is.
 */
export function toStoreError(err: unknown): unknown {
  if (err instanceof SwitchboardError) return err;
  const why = unreachable(err);
  if (why === undefined) return err;
  return new ConnectionClosedError('store_unavailable', `The database is unavailable (${why}); try again later`, { cause: err });
}

/**
 * A `store_unavailable` error for a write whose COMMIT was sent but whose answer never came: it may or may not
 * have been stored.
 */
export function commitOutcomeUnknown(err: SwitchboardError): SwitchboardError {
  return new ConnectionClosedError(
    'store_unavailable',
    'The database connection was lost while committing: the write may or may not have been stored; try again later (a retried publication may be stored twice)',
    { cause: err.cause ?? err },
  );
}
