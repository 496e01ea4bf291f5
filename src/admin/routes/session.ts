import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../../errors/index.js';
import { PUBLIC_ROUTE, refuseCredential, secretMatches, type AdminCredentials } from '../auth.js';
import { readCookie, SESSION_COOKIE, SESSION_IDLE_MS, sessionCookie, type SessionStore } from '../sessions.js';
import type { FailureThrottle } from '../throttle.js';

const LoginBody = Type.Object(
  {
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'the admin token' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
type Login = { token?: string; username?: string; password?: string };

function userFor(login: Login, credentials: AdminCredentials): string | undefined {
  if (login.token !== undefined) return secretMatches(login.token, credentials.token) ? 'admin' : undefined;
  if (!credentials.user || !credentials.password || login.username !== credentials.user) return undefined;
  return secretMatches(login.password, credentials.password) ? credentials.user : undefined;
}

const isHttps = (req: FastifyRequest) => req.protocol === 'https';

/** `/api/session`: the web admin's login (POST), who is logged in (GET), logout (DELETE). */
export function sessionRoutes(
  app: FastifyInstance,
  credentials: AdminCredentials,
  sessions: SessionStore,
  throttle: FailureThrottle,
): void {
  const loginOptions = { ...PUBLIC_ROUTE, schema: { body: LoginBody, tags: ['session'], summary: 'Log in to the web admin' } };
  app.post('/api/session', loginOptions, async (req, reply) => {
    // The credentials are checked before the throttle, so the right ones always log in (see FailureThrottle).
    const user = userFor(req.body as Login, credentials);
    if (!user)
      refuseCredential(throttle, req.ip, new UnauthorizedError('invalid_credentials', 'Wrong admin token, user or password'));
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
