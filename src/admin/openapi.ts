import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { PUBLIC_ROUTE } from './auth.js';

// The first path segment after /api names a route's group in the document (channels, outgoing, pubsub, …).
const tagOf = (url: string): string => url.split('/')[2] ?? 'api';

/**
 * Describes the admin API as OpenAPI 3, from the same TypeBox schemas fastify validates requests with, so the
 * document cannot drift from what the server accepts. Served at `/api/openapi.json`, without credentials.
 */
export function registerOpenApi(app: FastifyInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Switchboard admin API',
        version,
        description: 'Channels, outgoing connections, security, pub/sub and services, live. See docs/admin-api.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'The admin token' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'sb_session',
            description: 'Web admin session; mutating calls also need x-csrf-token',
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: ({ schema, url, route }) => {
      const s = (schema ?? {}) as FastifySchema & { tags?: string[]; hide?: boolean; security?: unknown[] };
      const hide = s.hide === true || !url.startsWith('/api/') || url === '/api/openapi.json';
      // A public route (the login, health) says so: no security requirement, instead of the document's default.
      const security = route.config?.public === true ? { security: [] } : {};
      return { schema: { ...s, ...security, tags: s.tags ?? [tagOf(url)], hide } as FastifySchema, url };
    },
  });
}

/** `GET /api/openapi.json`. */
export function openApiRoute(app: FastifyInstance): void {
  app.get('/api/openapi.json', { ...PUBLIC_ROUTE, schema: { hide: true } as FastifySchema }, async () => app.swagger());
}
