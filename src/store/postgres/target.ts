import { userInfo } from 'node:os';

/** Where a `postgres://` store points, read from its URL. */
export interface PostgresTarget {
  /** The URL handed to pg: without the `schema` parameter, which pg does not know. */
  readonly connectionString: string;
  /** The schema every connection's `search_path` is set to; undefined: the server's default (`public`). */
  readonly schema: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** The URL with any password replaced by `***`, for logs and `Store.location`. */
  readonly masked: string;
}

// An unquoted PostgreSQL identifier (≤ 63 bytes): it goes into a `-c search_path=…` option, where quoting is fragile.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** True when `location` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Reads a `postgres://user:password@host:port/db?schema=NAME` URL; throws naming what is wrong. */
export function parsePostgresUrl(location: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new Error(`The database URL ${maskPassword(location)} is not a valid postgres:// URL`);
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(
      `The database URL's schema parameter "${schema}" must be a plain identifier (letters, digits, _; at most 63)`,
    );
  }
  url.searchParams.delete('schema');
  // libpq (psql) defaults the user to the OS account; pg reads only $USER, which a service manager may not set.
  if (!url.username && !process.env['PGUSER']) url.username = encodeURIComponent(userInfo().username);
  const masked = new URL(location);
  if (masked.password) masked.password = '***';
  return {
    connectionString: url.toString(),
    schema,
    host: decodeURIComponent(url.hostname) || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres',
    masked: masked.toString(),
  };
}

function maskPassword(location: string): string {
  return location.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
