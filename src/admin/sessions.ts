import { randomBytes } from 'node:crypto';

/** How long a web admin session lives without a request. */
export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;

/** Sessions kept at most; logging in beyond this ends the oldest (each login needs valid credentials). */
export const MAX_SESSIONS = 1000;

/** The cookie that carries a web admin session. */
export const SESSION_COOKIE = 'sb_session';

/** A logged-in web admin user. */
export interface AdminSession {
  readonly id: string;
  readonly user: string;
  /** Sent back by the browser in `x-csrf-token` on every mutating request. */
  readonly csrfToken: string;
  expiresAt: number;
}

/**
 * Web admin sessions, in memory: a restart logs everyone out, which is the safe failure. Each server of a
 * cluster has its own, so a browser stays with the server it logged in to.
 */
export class SessionStore {
  readonly #sessions = new Map<string, AdminSession>();
  readonly #idleMs: number;

  constructor(idleMs = SESSION_IDLE_MS) {
    this.#idleMs = idleMs;
  }

  /** Starts a session for `user`. */
  create(user: string, now = Date.now()): AdminSession {
    this.#sweep(now);
    // A Map iterates in insertion order: the first key is the oldest session.
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value as string);
    const session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: now + this.#idleMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle timer restarted), or undefined. */
  touch(id: string | undefined, now = Date.now()): AdminSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.expiresAt = now + this.#idleMs;
    return session;
  }

  /** Ends a session. */
  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(id);
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
  }
}

/** The value of one cookie from a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A `Set-Cookie` value for the session: never readable by scripts, never sent cross-site. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
