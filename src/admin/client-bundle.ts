import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { PUBLIC_ROUTE } from './auth.js';

/** Where `scripts/build-client.mjs` writes the browser bundle of switchboard/client (dist/client). */
export const CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'client');

const FILES: Record<string, string> = {
  'switchboard-client.js': 'text/javascript; charset=utf-8',
  'switchboard-client.js.map': 'application/json; charset=utf-8',
};

/**
 * Serves the client library's browser bundle at `/client/switchboard-client.js`: a static library with no data,
 * so no auth, and any origin may load it (`import` from an application's own page is a CORS request).
 */
export function clientBundleRoutes(app: FastifyInstance, dir = CLIENT_DIR): void {
  // Read once: a fixed set of files, so no request path reaches the file system.
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) if (existsSync(join(dir, name))) files.set(name, readFileSync(join(dir, name)));

  app.get('/client/:file', { ...PUBLIC_ROUTE, schema: { hide: true } }, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    const type = FILES[name];
    if (!type) return reply.callNotFound();
    const body = files.get(name);
    const headers = { 'x-content-type-options': 'nosniff', 'access-control-allow-origin': '*', 'cache-control': 'no-cache' };
    if (!body)
      return reply
        .status(503)
        .headers(headers)
        .type('text/plain; charset=utf-8')
        .send('The client bundle is not built: run `npm run setup` (or `node scripts/build-client.mjs`).\n');
    return reply.status(200).headers(headers).type(type).send(body);
  });
}
