import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { statusOf, type ErrorCode } from '../errors/index.js';
import type { TlsFiles } from '../channels/wsx/index.js';
import { adminHttpsOptions, loadAdminTls, watchAdminTls } from './admin-tls.js';
import { adminGuard, PUBLIC_ROUTE, type AdminCredentials } from './auth.js';
import type { AdminContext } from './context.js';
import { errorHandler, notFoundBody } from './errors.js';
import { HostCheck } from './host-check.js';
import { registerJsonParser } from './json-body.js';
import { openApiRoute, registerOpenApi } from './openapi.js';
import { asyncApiRoutes } from './routes/asyncapi.js';
import { channelRoutes } from './routes/channels.js';
import { clusterRoutes } from './routes/cluster.js';
import { outgoingRoutes } from './routes/outgoing.js';
import { pubsubRoutes } from './routes/pubsub.js';
import { securityRoutes } from './routes/security.js';
import { serviceRoutes } from './routes/services.js';
import { sessionRoutes } from './routes/session.js';
import { statsRoutes } from './routes/stats.js';
import { tapRoutes } from './routes/taps.js';
import { SessionStore } from './sessions.js';
import { FailureThrottle } from './throttle.js';
import { webUiRoutes } from './web-ui.js';
import { clientBundleRoutes } from './client-bundle.js';

/** The largest request head (request line and headers) the admin reads; larger is 431. Node's default. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How long an idle keep-alive connection stays open between requests (Node's default). */
export const KEEP_ALIVE_MS = 5_000;

/** The admin's limits; each has a setting (see docs/admin-api.md), these are the defaults. */
export interface AdminLimits {
  /** Milliseconds to send the request head before 408 (default 10 s). */
  readonly headersTimeout?: number;
  /** Milliseconds to send the whole request before 408 (default 30 s). */
  readonly requestTimeout?: number;
  /** Largest body in bytes before 413 (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Failed credentials per address per minute before 429 (default 10). */
  readonly authFailureLimit?: number;
}

/** What the admin server needs besides the parts it manages. */
export interface AdminServerOptions extends AdminCredentials, AdminLimits {
  readonly logger: Logger;
  /** The address the admin listens on: its own name for the `Host` check (default `127.0.0.1`). */
  readonly host?: string;
  /** More `Host` names to answer (a reverse proxy's); `*` for any. */
  readonly allowedHosts?: readonly string[];
  /** Serve HTTPS with these PEM files (re-read when they change); the session cookie is `Secure` then. */
  readonly tls?: TlsFiles;
}

/** A route as the admin registered it: what the auth tests go through, so no route can be forgotten. */
export interface AdminRoute {
  readonly method: string;
  readonly url: string;
  readonly public: boolean;
}

const ROUTES = new WeakMap<FastifyInstance, AdminRoute[]>();

/** Every route of an admin server built by {@link createAdminServer}, one entry per method. */
export function adminRoutes(app: FastifyInstance): readonly AdminRoute[] {
  return ROUTES.get(app) ?? [];
}

// Why a client's request could not be read, answered in the API's error shape.
const CLIENT_ERRORS: Record<string, readonly [ErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: ['request_timeout', 'The request was not received in time'],
  HPE_HEADER_OVERFLOW: ['headers_too_large', `The request line and headers exceed ${MAX_HEADER_BYTES} bytes`],
};

/** Answers a request Node's parser gave up on (timeout, oversized or malformed head), then closes the socket. */
function clientErrorHandler(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, message] = CLIENT_ERRORS[err.code ?? ''] ?? ['bad_request', 'Malformed HTTP request'];
    const status = statusOf(code);
    logger.debug({ err, status }, 'Admin client error');
    const body = JSON.stringify({ error: { code, message } });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/** Builds the admin HTTP server (not yet listening): the API under /api, /metrics, and the web admin at /. */
export function createAdminServer(ctx: AdminContext, options: AdminServerOptions): FastifyInstance {
  const headersTimeout = options.headersTimeout ?? 10_000;
  const logger = options.logger.child({ part: 'admin' });
  const pair = options.tls && loadAdminTls(options.tls);
  // Node checks the timeouts only every connectionsCheckingInterval (30 s by default): check often enough
  // that a slow client is dropped close to headersTimeout, not up to half a minute later.
  const http = {
    headersTimeout,
    maxHeaderSize: MAX_HEADER_BYTES,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const app = Fastify({
    // fastify hands `http` to http.createServer only: with TLS the same limits go with the certificate.
    ...(pair ? { https: adminHttpsOptions(pair, http, headersTimeout) } : { http }),
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeout ?? 30_000,
    keepAliveTimeout: KEEP_ALIVE_MS,
    clientErrorHandler: clientErrorHandler(logger),
    // A URL fastify cannot decode (`/api/%zz`) is answered before routing: in our error shape, too.
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      void reply.code(statusOf('bad_request')).send({ error: { code: 'bad_request', message: error.message } });
    },
    // Unknown fields are errors (typos should not be silently dropped), and types are not coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  if (options.tls && pair) watchAdminTls(app, options.tls, pair, logger);
  const routes: AdminRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, public: route.config?.public === true });
  });
  const sessions = new SessionStore();
  const failureLimit = options.authFailureLimit ?? 10;
  // Logged once per address and window, not per refused request: a guesser must not be able to flood the log.
  const throttle = new FailureThrottle(failureLimit, (ip) =>
    logger.warn({ ip, failures: failureLimit }, 'Admin credentials throttled for this address'),
  );
  const hosts = new HostCheck(options.host ?? '127.0.0.1', options.allowedHosts ?? []);
  app.addHook('onRequest', adminGuard({ credentials: options, sessions, throttle, hosts }));
  registerJsonParser(app);
  app.setErrorHandler(errorHandler(options.logger));
  app.setNotFoundHandler((req, reply) => reply.status(statusOf('not_found')).send(notFoundBody(req.method, req.url)));
  // The OpenAPI plugin must see every route, so routes are declared in a plugin registered after it.
  registerOpenApi(app, ctx.version);
  void app.register(async (api) => {
    // `store` is the last query's outcome, not a probe: health costs no query, and stays 200 while the database is
    // away, as the server still holds its clients and runs what needs no database.
    api.get('/api/health', PUBLIC_ROUTE, async () => ({
      status: 'ok',
      version: ctx.version,
      server: ctx.serverName(),
      store: ctx.storeReachable() ? 'ok' : 'unavailable',
    }));
    // Prometheus scrapes without the admin token, like /api/health; the admin port listens on loopback by default.
    api.get('/metrics', PUBLIC_ROUTE, async (_req, reply) => {
      if (!ctx.metrics) return reply.status(statusOf('not_found')).send(notFoundBody('GET', '/metrics'));
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(await ctx.metrics.render());
    });
    openApiRoute(api);
    sessionRoutes(api, options, sessions, throttle);
    statsRoutes(api, ctx);
    clusterRoutes(api, ctx);
    channelRoutes(api, ctx);
    tapRoutes(api, ctx, sessions);
    outgoingRoutes(api, ctx);
    pubsubRoutes(api, ctx);
    securityRoutes(api, ctx);
    serviceRoutes(api, ctx);
    asyncApiRoutes(api, ctx);
    webUiRoutes(api);
    clientBundleRoutes(api);
  });
  return app;
}
