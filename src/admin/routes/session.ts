import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { secretMatches, type AdminCredentials } from '../auth.js';
import { readCookie, SESSION_COOKIE, SESSION_IDLE_MS, sessionCookie, type SessionStore } from '../sessions.js';

const LoginBody = Type.Object(
  {
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'the admin token' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
type Login = { token?: string; username?: string; password?: string };

/** Failed logins allowed per client address per window, before it must wait. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;

/** Counts failed logins per address so a password cannot be guessed at network speed. */
class LoginThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();

  blocked(ip: string, now = Date.now()): boolean {
    const f = this.#failures.get(ip);
    if (f && now - f.since > FAILURE_WINDOW_MS) this.#failures.delete(ip);
    return (this.#failures.get(ip)?.count ?? 0) >= MAX_FAILURES;
  }

  failed(ip: string, now = Date.now()): void {
    // Forget addresses whose window has passed, so many failing addresses cannot grow this map without end.
    if (this.#failures.size > 10_000) {
      for (const [key, f] of this.#failures) if (now - f.since > FAILURE_WINDOW_MS) this.#failures.delete(key);
    }
    const f = this.#failures.get(ip) ?? { count: 0, since: now };
    f.count++;
    this.#failures.set(ip, f);
  }

  succeeded(ip: string): void {
    this.#failures.delete(ip);
  }
}

function userFor(login: Login, credentials: AdminCredentials): string | undefined {
  if (login.token !== undefined) return secretMatches(login.token, credentials.token) ? 'admin' : undefined;
  if (!credentials.user || !credentials.password || login.username !== credentials.user) return undefined;
  return secretMatches(login.password, credentials.password) ? credentials.user : undefined;
}

const isHttps = (req: FastifyRequest) => req.protocol === 'https';

/** `/api/session`: the web admin's login (POST), who is logged in (GET), logout (DELETE). */
export function sessionRoutes(app: FastifyInstance, credentials: AdminCredentials, sessions: SessionStore): void {
  const throttle = new LoginThrottle();

  app.post('/api/session', { schema: { body: LoginBody, tags: ['session'], summary: 'Log in to the web admin' } }, async (req, reply) => {
    if (throttle.blocked(req.ip)) {
      return reply.status(429).send({ error: { code: 'too_many_attempts', message: 'Too many failed logins; try again in a minute' } });
    }
    const user = userFor(req.body as Login, credentials);
    if (!user) {
      throttle.failed(req.ip);
      return reply.status(401).send({ error: { code: 'invalid_credentials', message: 'Wrong admin token, user or password' } });
    }
    throttle.succeeded(req.ip);
    const session = sessions.create(user);
    reply.header('set-cookie', sessionCookie(session.id, SESSION_IDLE_MS / 1000, isHttps(req)));
    return { user: session.user, csrfToken: session.csrfToken };
  });

  app.get('/api/session', { schema: { tags: ['session'], summary: 'The logged-in web admin user' } }, async (req) => {
    const session = sessions.touch(readCookie(req.headers.cookie, SESSION_COOKIE));
    // Bearer callers have no session: they are the admin, with no CSRF token to use.
    return { user: session?.user ?? 'admin', csrfToken: session?.csrfToken ?? null };
  });

  app.delete('/api/session', { schema: { tags: ['session'], summary: 'Log out' } }, async (req, reply) => {
    sessions.delete(readCookie(req.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', sessionCookie('', 0, isHttps(req)));
    return { loggedOut: true };
  });
}
