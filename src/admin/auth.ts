import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A fastify hook: every `/api` route but `/api/health` needs `Authorization: Bearer <admin token>`. */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!req.url.startsWith('/api/') || req.url === '/api/health' || req.url.startsWith('/api/health?')) return;
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    // Compare digests so neither the length nor the content leaks through timing.
    if (presented && timingSafeEqual(digest(presented), expected)) return;
    await reply
      .status(401)
      .header('WWW-Authenticate', 'Bearer realm="switchboard"')
      .send({ error: { code: 'unauthorized', message: presented ? 'Invalid admin token' : 'Missing admin token (Authorization: Bearer <token>)' } });
  };
}
