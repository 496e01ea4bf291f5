import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PUBLIC_ROUTE } from './auth.js';

/** Where `scripts/build-web.mjs` writes the web admin (dist/web, beside dist/src). */
export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// The page loads only its own script and style and may not be framed; the API is same-origin. WebSockets may go
// anywhere (connect-src ws: wss:): the channel page's console connects to the channels, on ports of their own.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Reads the built files once: a fixed set, so no request path ever reaches the file system. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of readdirSync(join(dir, 'assets'))) {
    const type = TYPES[extname(file)];
    if (type) assets.set(file, { body: readFileSync(join(dir, 'assets', file)), type });
  }
  return assets;
}

/** The page, with each asset URL carrying its content hash so browsers never run a stale script. */
function loadPage(dir: string, assets: Map<string, Asset>): string {
  let html = readFileSync(join(dir, 'index.html'), 'utf8');
  for (const [file, asset] of assets) {
    const hash = createHash('sha256').update(asset.body).digest('hex').slice(0, 12);
    html = html.replaceAll(`/assets/${file}"`, `/assets/${file}?v=${hash}"`);
  }
  return html;
}

function send(reply: FastifyReply, status: number, type: string, body: string | Buffer, cache: string): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).header('cache-control', cache).type(type).send(body);
}

/** Serves the web admin at `/` (a single page; its views live behind `#/…`). */
export function webUiRoutes(app: FastifyInstance, dir = WEB_DIR): void {
  const built = existsSync(join(dir, 'index.html'));
  const assets = built ? loadAssets(dir) : new Map<string, Asset>();
  const page = built ? loadPage(dir, assets) : '';
  // The page and its assets hold no data: the login happens on the page, through the API.
  const hide = { ...PUBLIC_ROUTE, schema: { hide: true } };

  app.get('/', hide, async (_req, reply) => {
    if (!built)
      return send(
        reply,
        503,
        'text/plain; charset=utf-8',
        'The web admin is not built: run `npm run setup` (or `npm start`).\n',
        'no-store',
      );
    return send(reply, 200, 'text/html; charset=utf-8', page, 'no-cache');
  });

  app.get('/assets/:file', hide, async (req, reply) => {
    const asset = assets.get((req.params as { file: string }).file);
    if (!asset) return reply.callNotFound();
    return send(reply, 200, asset.type, asset.body, 'public, max-age=31536000, immutable');
  });
}
