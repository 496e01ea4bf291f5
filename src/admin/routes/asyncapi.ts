import type { FastifyInstance } from 'fastify';
import { buildAsyncApi, type AsyncApiDocument } from '../asyncapi/document.js';
import type { AdminContext } from '../context.js';

/** The inputs of the AsyncAPI document, read from the configuration and the running channels now. */
async function asyncApiOf(ctx: AdminContext): Promise<AsyncApiDocument> {
  const [channels, security, topics] = await Promise.all([ctx.channels.list(), ctx.security.list(), ctx.topics.list()]);
  return buildAsyncApi({
    version: ctx.version,
    serverName: ctx.serverName(),
    channels: channels.map((c) => ({ ...c, listenAddress: ctx.channelManager.state(c.name).listenAddress })),
    security,
    services: ctx.registry.list().map((s) => ({ name: s.name, io: s.cls.io })),
    topics: topics.map((t) => ({ ...t, access: ctx.channelManager.topicAccess(t.name) })),
  });
}

/** `GET /api/asyncapi.json`: the AsyncAPI 3.0 document of the channels, services and topics, generated per request. */
export function asyncApiRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/asyncapi.json',
    { schema: { tags: ['asyncapi'], summary: 'The AsyncAPI 3.0 document of every channel, mounted service and topic' } },
    async () => asyncApiOf(ctx),
  );
}
