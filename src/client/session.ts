import { sessionToken, type RemoteBadReply, type RemoteReply } from '../protocol/client.js';
import { AuthError, ClientError, codeOfStatus } from './errors.js';

/** Gives a fresh token (a JWT) whenever the client needs one: at each connection and before the token expires. */
export type TokenProvider = () => string | Promise<string>;

/** What `create-session` carries: basic auth (`username` + `secret`), a token (`secret` alone), or nothing. */
export interface Credentials {
  readonly username?: string | undefined;
  readonly secret?: string | undefined;
  readonly token?: string | TokenProvider | undefined;
}

/** The secret sent in `create-session` for the current credentials; undefined when there are none. */
export async function sessionSecret(
  credentials: Credentials,
): Promise<{ username: string | undefined; secret: string } | undefined> {
  const { token } = credentials;
  if (token !== undefined) return { username: credentials.username, secret: typeof token === 'function' ? await token() : token };
  if (credentials.secret !== undefined) return { username: credentials.username, secret: credentials.secret };
  return undefined;
}

/** A JWT's `exp` in epoch milliseconds, or undefined when the text is not a JWT with a numeric `exp`. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || payload.length > 8192) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='))) as unknown;
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to refresh a token that expires at `expiresAt`: `ahead` ms before, but never later than half-way through
 * what is left (a short-lived token is refreshed in time too). Milliseconds from `now`, at least 0.
 */
export function refreshDelay(expiresAt: number, now: number, ahead: number): number {
  const left = expiresAt - now;
  return Math.max(0, left - Math.min(ahead, left / 2));
}

/** Refusals about who the client is: reconnecting with the same credentials would be refused again. */
const AUTH_CODES = new Set(['invalid_credentials', 'forbidden']);

/** Waits for the answer to one `create-session`: the session token, or why there is none. */
export class SessionWait {
  readonly id: string;
  readonly answered: Promise<string>;
  #resolve: (token: string) => void = () => undefined;
  #reject: (err: Error) => void = () => undefined;
  readonly #timer: ReturnType<typeof setTimeout>;

  constructor(id: string, timeoutMs: number) {
    this.id = id;
    this.answered = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#timer = setTimeout(
      () => this.fail(new ClientError('response_timeout', `No answer to create-session within ${timeoutMs} ms`)),
      timeoutMs,
    );
  }

  /** The reply to our `create-session`: `zwsx.rspa` with a token, or a refusal. */
  reply(frame: RemoteReply | RemoteBadReply): void {
    if (frame.kind === 'bad-reply') return this.fail(new ClientError('invalid_reply', `Session reply: ${frame.reason}`));
    const result = sessionToken(frame);
    if ('token' in result) {
      clearTimeout(this.#timer);
      this.#resolve(result.token);
      return;
    }
    this.refused(frame.response.status, frame.response.code, result.error);
  }

  /**
   * A refusal (final when it is about the credentials): Switchboard and Zato 3.2 answer a refused `create-session` with a `zwsx.merr` without
   * `in_reply_to` (Zato's has no `meta.code`: its 403 says "invalid credentials").
   */
  refused(status: number | undefined, code: string | undefined, message: string | undefined): void {
    const st = status ?? 403;
    const isAuth = code === undefined ? st === 403 || st === 401 : AUTH_CODES.has(code);
    const theCode = code ?? (isAuth ? 'invalid_credentials' : codeOfStatus(st));
    const text = `The server refused the session: ${message ?? theCode}`;
    // Only a refusal of who we are is final; an overloaded or failing server is tried again.
    this.fail(isAuth ? new AuthError(theCode, text, { status: st }) : new ClientError(theCode, text, { status: st }));
  }

  /** Ends the wait with `err` (the socket closed, a timeout). */
  fail(err: Error): void {
    clearTimeout(this.#timer);
    this.#reject(err);
  }
}
