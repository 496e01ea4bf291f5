import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { TopicConfigSchema, type TopicConfig, type TopicInput } from '../../pubsub/index.js';
import type { AdminContext } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const SubParams = Type.Object({ subKey: Type.String({ minLength: 1 }) });
const PublishBody = Type.Object(
  {
    data: Type.Unknown(),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 9 })),
    expiration: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    hasGd: Type.Optional(Type.Boolean()),
    correlId: Type.Optional(Type.String()),
    inReplyTo: Type.Optional(Type.String()),
    mimeType: Type.Optional(Type.String()),
    extClientId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
// Unknown query parameters are errors too (`?aftr=5` should not silently browse from the start).
const BrowseQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^\\d+$' })),
    limit: Type.Optional(Type.String({ pattern: '^\\d+$' })),
  },
  { additionalProperties: false },
);

/** `/api/pubsub`: topics (with depth), publishing, browsing, and subscriptions. */
export function pubsubRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const withDepth = async (topic: TopicConfig) => ({ ...topic, depth: await ctx.pubsub.depth(topic.name) });
  // Topic names start with a slash, so they travel URL-encoded (%2Forders%2Fnew).
  const nameOf = (req: { params: unknown }) => (req.params as { name: string }).name;

  app.get('/api/pubsub/topics', async () => Promise.all((await ctx.topics.list()).map(withDepth)));

  app.post('/api/pubsub/topics', { schema: { body: TopicConfigSchema } }, async (req, reply) => {
    return reply.status(201).send(await withDepth(await ctx.topics.create(req.body as TopicInput)));
  });

  app.get('/api/pubsub/topics/:name', { schema: { params: NameParams } }, async (req) =>
    withDepth(await ctx.topics.get(nameOf(req))),
  );

  // Who may publish and subscribe, by the running channels' patterns (docs/security.md, "Pub/sub permissions").
  app.get('/api/pubsub/topics/:name/access', { schema: { params: NameParams } }, async (req) => {
    const { name } = await ctx.topics.get(nameOf(req));
    return { topic: name, channels: ctx.channelManager.topicAccess(name) };
  });

  app.put('/api/pubsub/topics/:name', { schema: { params: NameParams, body: TopicConfigSchema } }, async (req) => {
    return withDepth(await ctx.topics.update(nameOf(req), req.body as TopicInput));
  });

  app.delete('/api/pubsub/topics/:name', { schema: { params: NameParams } }, async (req) => ctx.topics.delete(nameOf(req)));

  app.post('/api/pubsub/topics/:name/publish', { schema: { params: NameParams, body: PublishBody } }, async (req, reply) => {
    const msgId = await ctx.pubsub.publish(nameOf(req), req.body as { data: unknown });
    return reply.status(201).send({ msg_id: msgId });
  });

  app.get('/api/pubsub/topics/:name/messages', { schema: { params: NameParams, querystring: BrowseQuery } }, async (req) => {
    const q = req.query as { after?: string; limit?: string };
    return ctx.pubsub.browse(nameOf(req), Number(q.after ?? 0), Number(q.limit ?? 50));
  });

  app.get('/api/pubsub/subscriptions', async () => ctx.pubsub.subscriptions());

  app.get('/api/pubsub/subscriptions/:subKey', { schema: { params: SubParams } }, async (req) => {
    const { subKey } = req.params as { subKey: string };
    return ctx.pubsub.subscription(subKey);
  });

  app.delete('/api/pubsub/subscriptions/:subKey', { schema: { params: SubParams } }, async (req) => {
    const { subKey } = req.params as { subKey: string };
    await ctx.pubsub.unsubscribe(subKey, undefined);
    return { deleted: subKey };
  });
}
