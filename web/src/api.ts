// Calls the admin API with the session cookie; every mutating call carries the session's CSRF token.

/** An error answered by the API, in its `{ error: { code, message, field } }` shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

/** Remembers the session's CSRF token (from the login answer or `GET /api/session`). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when the session has ended (show the login page). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/** One API call; resolves with the parsed body, rejects with an `ApiError`. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = await bodyOf(res);
  if (res.ok) return parsed as T;
  throw failure(res, path, parsed);
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function failure(res: Response, path: string, parsed: unknown): ApiError {
  const err = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
  if (res.status === 401 && path !== '/api/session') onUnauthorized();
  return new ApiError(
    res.status,
    err?.code ?? `http_${res.status}`,
    err?.message ?? `${res.status} ${res.statusText}`,
    err?.field,
  );
}

/** Opens a streamed GET (Server-Sent Events) with the session cookie; rejects with an `ApiError` as `api` does. */
export async function apiStream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const res = await fetch(path, { headers: { accept: 'text/event-stream' }, credentials: 'same-origin', signal });
  if (res.ok && res.body) return res.body;
  throw failure(res, path, await bodyOf(res));
}

/** A path segment: names (topics start with a slash) travel URL-encoded. */
export const enc = encodeURIComponent;
