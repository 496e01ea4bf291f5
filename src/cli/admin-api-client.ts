// The CLI's HTTP client of the admin API (not a WebSocket client, not a pool lease: those live in channels/ and outgoing/).
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { httpsCall, type PlainResponse } from './https-call.js';

/** An admin API error, with the API's code and field when it gave them. */
export class AdminApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Where the admin API is and how to authenticate: flags, then environment, then defaults. */
export interface AdminApiConnection {
  readonly url: string;
  readonly token: string | undefined;
  /** A PEM file of the CA (or self-signed certificate) to trust for an https:// admin, besides the system's. */
  readonly caFile?: string | undefined;
}

/**
 * Resolves the API URL, token and CA file from `--url`/`--token`/`--ca`, `SWITCHBOARD_*` variables, and
 * `data/admin-token`. With `SWITCHBOARD_ADMIN_TLS_CERT` set (the server's HTTPS setting) the default URL is https.
 */
export function resolveAdminApi(
  flags: { url?: string | undefined; token?: string | undefined; ca?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): AdminApiConnection {
  const host = env.SWITCHBOARD_ADMIN_HOST ?? '127.0.0.1';
  const port = env.SWITCHBOARD_ADMIN_PORT ?? '17010';
  const scheme = env.SWITCHBOARD_ADMIN_TLS_CERT ? 'https' : 'http';
  const url = (
    flags.url ??
    env.SWITCHBOARD_ADMIN_URL ??
    `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`
  ).replace(/\/+$/, '');
  let token = flags.token ?? env.SWITCHBOARD_ADMIN_TOKEN;
  if (!token) {
    const file = join(env.SWITCHBOARD_DATA_DIR ?? 'data', 'admin-token');
    if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
  }
  return { url, token, caFile: flags.ca ?? (env.SWITCHBOARD_ADMIN_CA || undefined) };
}

/** Calls the admin API; resolves with the parsed body, or rejects with an `AdminApiError`. */
export async function callAdminApi(conn: AdminApiConnection, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: PlainResponse;
  const init = {
    method,
    headers: {
      ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  try {
    const useCa = conn.caFile !== undefined && conn.url.startsWith('https:');
    res = useCa ? await httpsCall(conn.url + path, init, conn.caFile!) : await fetch(conn.url + path, init);
  } catch (err) {
    const inner = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = inner?.code ?? inner?.message ?? (err as Error).message;
    throw new AdminApiError(
      0,
      'unreachable',
      `Cannot reach the Switchboard admin API at ${conn.url} (${cause}). ` +
        (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(cause)
          ? 'Its certificate is not trusted: give its CA with --ca FILE or SWITCHBOARD_ADMIN_CA.'
          : 'Is the server running (npm start)?'),
    );
  }
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    throw new AdminApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText, e?.field);
  }
  return parsed;
}
