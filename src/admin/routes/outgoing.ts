import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { OutgoingConfigSchema, type OutgoingConfig, type OutgoingInput } from '../../outgoing/wsx/index.js';
import type { AdminContext } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });

/** `/api/outgoing/wsx`: outgoing WebSocket connections, with their live state. */
export function outgoingRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const withState = (config: OutgoingConfig) => ({ ...config, runtime: ctx.outgoingManager.state(config.name) });

  app.get('/api/outgoing/wsx', async () => (await ctx.outgoing.list()).map(withState));

  app.post('/api/outgoing/wsx', { schema: { body: OutgoingConfigSchema } }, async (req, reply) => {
    const created = await ctx.outgoing.create(req.body as OutgoingInput);
    await ctx.outgoingManager.settled();
    return reply.status(201).send(withState(created));
  });

  app.get('/api/outgoing/wsx/:name', { schema: { params: NameParams } }, async (req) => {
    return withState(await ctx.outgoing.get((req.params as { name: string }).name));
  });

  app.put('/api/outgoing/wsx/:name', { schema: { params: NameParams, body: OutgoingConfigSchema } }, async (req) => {
    const updated = await ctx.outgoing.update((req.params as { name: string }).name, req.body as OutgoingInput);
    await ctx.outgoingManager.settled();
    return withState(updated);
  });

  app.delete('/api/outgoing/wsx/:name', { schema: { params: NameParams } }, async (req) => {
    const deleted = await ctx.outgoing.delete((req.params as { name: string }).name);
    await ctx.outgoingManager.settled();
    return deleted;
  });
}
