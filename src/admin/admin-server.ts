import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bearerAuth } from './auth.js';
import type { AdminContext } from './context.js';
import { errorHandler, notFoundBody } from './errors.js';
import { channelRoutes } from './routes/channels.js';
import { outgoingRoutes } from './routes/outgoing.js';
import { pubsubRoutes } from './routes/pubsub.js';
import { securityRoutes } from './routes/security.js';
import { serviceRoutes } from './routes/services.js';

/** Builds the admin HTTP server (not yet listening). */
export function createAdminServer(ctx: AdminContext, options: { token: string; logger: Logger }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ part: 'admin' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4 * 1024 * 1024,
    // Unknown fields are errors (typos should not be silently dropped), and types are not coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  app.addHook('onRequest', bearerAuth(options.token));
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((req, reply) => reply.status(404).send(notFoundBody(req.method, req.url)));
  app.get('/api/health', async () => ({ status: 'ok', version: ctx.version }));
  // Prometheus scrapes without the admin token, like /api/health; the admin port listens on loopback by default.
  app.get('/metrics', async (_req, reply) => {
    if (!ctx.metrics) return reply.status(404).send(notFoundBody('GET', '/metrics'));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await ctx.metrics.render());
  });
  channelRoutes(app, ctx);
  outgoingRoutes(app, ctx);
  pubsubRoutes(app, ctx);
  securityRoutes(app, ctx);
  serviceRoutes(app, ctx);
  return app;
}
