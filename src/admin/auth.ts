import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie, SESSION_COOKIE, type SessionStore } from './sessions.js';

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

// Reachable without credentials: liveness, the API's description, and the login itself.
const PUBLIC = new Set(['GET /api/health', 'GET /api/openapi.json', 'POST /api/session']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function deny(reply: FastifyReply, status: 401 | 403, code: string, message: string): FastifyReply {
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="switchboard"');
  return reply.status(status).send({ error: { code, message } });
}

/**
 * A fastify hook for `/api`: a request carries either `Authorization: Bearer <admin token>` or the web admin's
 * session cookie. Cookies travel by themselves, so a cookie-authenticated request that changes anything must
 * also carry the session's CSRF token in `x-csrf-token`; a bearer token cannot be forged cross-site.
 */
export function adminAuth(credentials: AdminCredentials, sessions: SessionStore) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = req.url.split('?', 1)[0]!;
    if (!path.startsWith('/api/') || PUBLIC.has(`${req.method} ${path}`)) return;
    const header = req.headers.authorization;
    if (header) {
      const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      if (secretMatches(presented, credentials.token)) return;
      await deny(reply, 401, 'unauthorized', 'Invalid admin token');
      return;
    }
    const session = sessions.touch(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (!session) {
      await deny(reply, 401, 'unauthorized', 'Missing admin token (Authorization: Bearer <token>) or web admin session');
      return;
    }
    if (SAFE_METHODS.has(req.method)) return;
    const csrf = req.headers['x-csrf-token'];
    if (typeof csrf === 'string' && secretMatches(csrf, session.csrfToken)) return;
    await deny(reply, 403, 'csrf_failed', 'Missing or wrong x-csrf-token header for this session');
  };
}
