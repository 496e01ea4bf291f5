import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, MisdirectedRequestError, TooManyRequestsError, UnauthorizedError } from '../errors/index.js';
import { authorizationValue } from '../security/index.js';
import type { HostCheck } from './host-check.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from './sessions.js';
import { FAILURE_WINDOW_MS, type FailureThrottle } from './throttle.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Reachable without credentials. Only a route that sets this is public: every other route, and any request
     * that matches no route, needs the admin token or a session (and the CSRF token for writes).
     */
    public?: boolean;
  }
}

/** Route options for a route anyone may call (see {@link FastifyContextConfig.public}). */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares digests so neither the length nor the content of a secret leaks through timing. */
export function secretMatches(presented: string | undefined, expected: string | undefined): boolean {
  if (!presented || !expected) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Who may use the admin API: the token (CLI, scripts, the web admin's login) and an optional user. */
export interface AdminCredentials {
  readonly token: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
}

/** What the admin's `onRequest` guard decides with. */
export interface AdminGuardParts {
  readonly credentials: AdminCredentials;
  readonly sessions: SessionStore;
  readonly throttle: FailureThrottle;
  readonly hosts: HostCheck;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Answers a wrong credential: 401, or 429 once the address has used up its failures. Called only after the
 * credential was found wrong, so the right one always works, throttled or not.
 */
export function refuseCredential(throttle: FailureThrottle, ip: string, error: UnauthorizedError): never {
  if (throttle.blocked(ip)) {
    throw new TooManyRequestsError('too_many_attempts', 'Too many failed attempts from this address; try again in a minute', {
      retryAfterSeconds: FAILURE_WINDOW_MS / 1000,
    });
  }
  throttle.failed(ip);
  throw error;
}

function checkBearer(parts: AdminGuardParts, req: FastifyRequest, header: string): void {
  const presented = authorizationValue(header, 'bearer') ?? '';
  if (secretMatches(presented, parts.credentials.token)) return;
  refuseCredential(parts.throttle, req.ip, new UnauthorizedError('unauthorized', 'Invalid admin token'));
}

function checkSession(parts: AdminGuardParts, req: FastifyRequest, cookie: string): void {
  const session = parts.sessions.touch(cookie);
  if (!session)
    refuseCredential(parts.throttle, req.ip, new UnauthorizedError('unauthorized', 'Unknown or expired web admin session'));
  if (SAFE_METHODS.has(req.method)) return;
  const csrf = req.headers['x-csrf-token'];
  if (typeof csrf === 'string' && secretMatches(csrf, session.csrfToken)) return;
  throw new ForbiddenError('csrf_failed', 'Missing or wrong x-csrf-token header for this session');
}

/**
 * The admin's `onRequest` hook. First the `Host` header must name this server (DNS rebinding). Then the decision
 * is the matched route's, never the URL text's (the router decodes `%61pi` to `api`; a string check would
 * not): a route without `config.public` — and any request that matches no route — needs either
 * `Authorization: Bearer <admin token>` or the web admin's session cookie. Cookies travel by themselves, so a
 * cookie-authenticated request that may change anything (any method but GET, HEAD, OPTIONS) must also carry
 * the session's CSRF token in `x-csrf-token`; a bearer token cannot be forged cross-site. Wrong credentials of
 * every kind count against the address's failure budget (see {@link FailureThrottle}).
 */
export function adminGuard(parts: AdminGuardParts) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!parts.hosts.allows(req.headers.host)) {
      throw new MisdirectedRequestError(
        'host_not_allowed',
        'This server does not answer for that Host; add it to adminAllowedHosts if it is yours',
      );
    }
    if (req.routeOptions.config?.public === true) return;
    const header = req.headers.authorization;
    if (header) return checkBearer(parts, req, header);
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined) return checkSession(parts, req, cookie);
    throw new UnauthorizedError('unauthorized', 'Missing admin token (Authorization: Bearer <token>) or web admin session');
  };
}
