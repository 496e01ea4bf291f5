import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TAP_LIMITS, type TapSpec } from '../../channels/wsx/index.js';
import { NotFoundError, ValidationError } from '../../errors/index.js';
import type { AdminContext } from '../context.js';
import { readCookie, SESSION_COOKIE, type SessionStore } from '../sessions.js';
import { SSE_HEADERS, SseTapWatcher, sseEvent } from '../tap-stream.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const TapParams = Type.Object({ name: Type.String({ minLength: 1 }), tapId: Type.String({ minLength: 1 }) });
const digits = (description: string) => Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$', description }));
// Unknown parameters are errors (`?pubClientID=` must not silently tap every client).
const TapQuery = Type.Object(
  {
    pubClientId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'one client (default: all)' })),
    rate: digits(`frames shown per second, 1 to ${TAP_LIMITS.maxRate} (default ${TAP_LIMITS.defaultRate})`),
    duration: digits(`seconds the tap runs at most, up to ${TAP_LIMITS.maxDurationSeconds}`),
    idle: digits(`seconds without a frame after which it stops, up to ${TAP_LIMITS.maxIdleSeconds}`),
  },
  { additionalProperties: false },
);
type TapQueryValue = { pubClientId?: string; rate?: string; duration?: string; idle?: string };

function bounded(value: string | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (n >= 1 && n <= max) return n;
  throw new ValidationError('invalid_input', `${field} must be from 1 to ${max}`, { field });
}

/** `/api/channels/wsx/{name}/tap`: a live, masked, sampled stream of a channel's (or one client's) frames. */
export function tapRoutes(app: FastifyInstance, ctx: AdminContext, sessions: SessionStore): void {
  const taps = ctx.channelManager.taps;

  // Bearer callers are the admin; a web admin user is named by its session.
  const startedBy = (req: FastifyRequest): string =>
    req.headers.authorization ? 'admin token' : (sessions.touch(readCookie(req.headers.cookie, SESSION_COOKIE))?.user ?? 'admin');

  // This server's connections only: a client on another server of a cluster is named with its server.
  const checkClient = async (name: string, pubClientId: string): Promise<void> => {
    if (ctx.channelManager.localChannel(name).hasClient(pubClientId)) return;
    const elsewhere = (await ctx.channelManager.otherServersClients(name)).find((c) => c.pubClientId === pubClientId);
    const message = elsewhere
      ? `Client ${pubClientId} is connected to server ${elsewhere.server}, not to this one (${ctx.serverName()}): tap it through that server's admin`
      : `No client ${pubClientId} on channel ${name}`;
    throw new NotFoundError('client_not_found', message);
  };

  const specOf = async (req: FastifyRequest, name: string, q: TapQueryValue): Promise<TapSpec> => {
    const rate = bounded(q.rate, 'rate', TAP_LIMITS.defaultRate, TAP_LIMITS.maxRate);
    const durationSeconds = bounded(q.duration, 'duration', TAP_LIMITS.defaultDurationSeconds, TAP_LIMITS.maxDurationSeconds);
    const idleSeconds = bounded(q.idle, 'idle', TAP_LIMITS.defaultIdleSeconds, TAP_LIMITS.maxIdleSeconds);
    await ctx.channels.get(name);
    if (ctx.channelManager.state(name).state !== 'listening')
      throw new NotFoundError('channel_not_running', `Channel ${name} is not running on this server`);
    if (q.pubClientId !== undefined) await checkClient(name, q.pubClientId);
    return { channel: name, pubClientId: q.pubClientId, rate, durationSeconds, idleSeconds, startedBy: startedBy(req) };
  };

  const tapOptions = {
    // A HEAD would open a stream with no body to show.
    exposeHeadRoute: false,
    schema: {
      params: NameParams,
      querystring: TapQuery,
      summary: "Tap a channel's frames (text/event-stream)",
      description:
        'Server-Sent Events: `started`, then `frame`, `skipped` and a last `stopped`; the tap stops when the request ' +
        'closes. Frame texts are masked and cut to 4 KiB. See docs/admin-api.md, "Tapping a channel".',
    },
  };
  app.get('/api/channels/wsx/:name/tap', tapOptions, async (req, reply) => {
    const { name } = req.params as { name: string };
    const spec = await specOf(req, name, req.query as TapQueryValue);
    const log = req.log;
    const watcher = new SseTapWatcher(reply.raw, (reason, err) => {
      if (err) log.error({ err, tapId: tap.id, channel: name }, 'A tap failed');
      const { frames, skipped } = tap.info();
      log.info({ tapId: tap.id, channel: name, reason, frames, skipped }, 'Tap stopped');
    });
    // Refused (tap_limit_reached) before anything is streamed: the caller gets the API's error body.
    const tap = taps.start(spec, watcher);
    log.info(
      { tapId: tap.id, channel: name, pubClientId: spec.pubClientId, startedBy: spec.startedBy, ip: req.ip },
      'Tap started',
    );
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.write(sseEvent('started', { ...tap.info(), server: ctx.serverName(), textBytes: TAP_LIMITS.textBytes }));
    reply.raw.on('close', () => tap.stop('watcher_closed'));
    // Gone while the tap was being checked: 'close' has been and will not come again.
    if (req.raw.socket.destroyed) tap.stop('watcher_closed');
  });

  app.get('/api/channels/wsx/:name/taps', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    await ctx.channels.get(name);
    const server = ctx.serverName();
    return taps.list(name).map((t) => ({ ...t, server }));
  });

  app.delete('/api/channels/wsx/:name/taps/:tapId', { schema: { params: TapParams } }, async (req) => {
    const { name, tapId } = req.params as { name: string; tapId: string };
    const tap = taps.get(tapId);
    if (!tap || tap.spec.channel !== name) {
      await ctx.channels.get(name);
      throw new NotFoundError('tap_not_found', `No tap ${tapId} on channel ${name} on this server`);
    }
    tap.stop('stopped');
    return { stopped: tapId };
  });

  // A stream stays open until its tap stops: every tap stops before the admin server waits for its connections.
  app.addHook('preClose', async () => taps.stopAll('server_stopping'));
}
