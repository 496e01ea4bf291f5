import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ChannelConfigSchema, type ChannelConfig, type ChannelInput } from '../../channels/wsx/index.js';
import { ConflictError, NotFoundError } from '../../errors/index.js';
import type { AdminContext } from '../context.js';
import { emptyBodyAsObject } from './body.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const ClientParams = Type.Object({ name: Type.String({ minLength: 1 }), pubClientId: Type.String({ minLength: 1 }) });
const InvokeBody = Type.Object(
  { request: Type.Optional(Type.Unknown()), timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 600 })) },
  { additionalProperties: false },
);

/** `/api/channels/wsx`: channels, their connected clients, and calls to those clients. */
export function channelRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const withState = (config: ChannelConfig) => ({ ...config, runtime: ctx.channelManager.state(config.name) });

  // An unknown channel is 404 channel_not_found; a stopped channel has no clients, so its clients are client_not_found.
  const runningChannel = async (name: string, pubClientId: string) => {
    await ctx.channels.get(name);
    if (ctx.channelManager.state(name).state !== 'listening') {
      throw new NotFoundError('client_not_found', `No client ${pubClientId} on channel ${name} (the channel is not running)`);
    }
    return ctx.channelManager.channel(name);
  };

  app.get('/api/channels/wsx', async () => (await ctx.channels.list()).map(withState));

  app.post('/api/channels/wsx', { schema: { body: ChannelConfigSchema } }, async (req, reply) => {
    const created = await ctx.channels.create(req.body as ChannelInput);
    // Answer once the channel is live, so a client may connect as soon as this returns.
    await ctx.channelManager.settled();
    return reply.status(201).send(withState(created));
  });

  app.get('/api/channels/wsx/:name', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    return withState(await ctx.channels.get(name));
  });

  app.put('/api/channels/wsx/:name', { schema: { params: NameParams, body: ChannelConfigSchema } }, async (req) => {
    const { name } = req.params as { name: string };
    const updated = await ctx.channels.update(name, req.body as ChannelInput);
    await ctx.channelManager.settled();
    return withState(updated);
  });

  app.delete('/api/channels/wsx/:name', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    const deleted = await ctx.channels.delete(name);
    await ctx.channelManager.settled();
    return deleted;
  });

  app.get('/api/channels/wsx/:name/clients', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    await ctx.channels.get(name);
    // This server's clients as they are now, the other servers' as the cluster's registry has them.
    const server = ctx.serverName();
    const running = ctx.channelManager.state(name).state === 'listening';
    const own = running
      ? ctx.channelManager
          .localChannel(name)
          .clients()
          .map((c) => ({ ...c, server }))
      : [];
    return [...own, ...(await ctx.channelManager.otherServersClients(name))];
  });

  app.delete('/api/channels/wsx/:name/clients/:pubClientId', { schema: { params: ClientParams } }, async (req) => {
    const { name, pubClientId } = req.params as { name: string; pubClientId: string };
    await (await runningChannel(name, pubClientId)).disconnect(pubClientId);
    return { disconnected: pubClientId };
  });

  const invokeOptions = { schema: { params: ClientParams, body: InvokeBody }, preValidation: emptyBodyAsObject };
  app.post('/api/channels/wsx/:name/clients/:pubClientId/invoke', invokeOptions, async (req) => {
    const { name, pubClientId } = req.params as { name: string; pubClientId: string };
    const body = (req.body ?? {}) as { request?: unknown; timeout?: number };
    const handle = await runningChannel(name, pubClientId);
    const client = handle.clients().find((c) => c.pubClientId === pubClientId);
    if (client?.protocol === 'plain') throw new ConflictError('not_supported', 'Plain-protocol clients cannot answer requests');
    const response = await handle.invoke(pubClientId, body.request, { timeout: (body.timeout ?? 5) * 1000 });
    return { response };
  });
}
