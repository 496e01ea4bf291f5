import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { adminAuth, type AdminCredentials } from './auth.js';
import type { AdminContext } from './context.js';
import { errorHandler, notFoundBody } from './errors.js';
import { openApiRoute, registerOpenApi } from './openapi.js';
import { channelRoutes } from './routes/channels.js';
import { outgoingRoutes } from './routes/outgoing.js';
import { pubsubRoutes } from './routes/pubsub.js';
import { securityRoutes } from './routes/security.js';
import { serviceRoutes } from './routes/services.js';
import { sessionRoutes } from './routes/session.js';
import { statsRoutes } from './routes/stats.js';
import { SessionStore } from './sessions.js';
import { webUiRoutes } from './web-ui.js';

/** What the admin server needs besides the parts it manages. */
export interface AdminServerOptions extends AdminCredentials {
  readonly logger: Logger;
}

/** Builds the admin HTTP server (not yet listening): the API under /api, /metrics, and the web admin at /. */
export function createAdminServer(ctx: AdminContext, options: AdminServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ part: 'admin' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    // Unknown fields are errors (typos should not be silently dropped), and types are not coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  const sessions = new SessionStore();
  app.addHook('onRequest', adminAuth(options, sessions));
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((req, reply) => reply.status(404).send(notFoundBody(req.method, req.url)));
  // The OpenAPI plugin must see every route, so routes are declared in a plugin registered after it.
  registerOpenApi(app, ctx.version);
  void app.register(async (api) => {
    api.get('/api/health', async () => ({ status: 'ok', version: ctx.version }));
    // Prometheus scrapes without the admin token, like /api/health; the admin port listens on loopback by default.
    api.get('/metrics', async (_req, reply) => {
      if (!ctx.metrics) return reply.status(404).send(notFoundBody('GET', '/metrics'));
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await ctx.metrics.render());
    });
    openApiRoute(api);
    sessionRoutes(api, options, sessions);
    statsRoutes(api, ctx);
    channelRoutes(api, ctx);
    outgoingRoutes(api, ctx);
    pubsubRoutes(api, ctx);
    securityRoutes(api, ctx);
    serviceRoutes(api, ctx);
    webUiRoutes(api);
  });
  return app;
}
