import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ConflictError } from '../../errors/index.js';
import { SecurityInputSchema, type SecurityInput } from '../../security/index.js';
import type { AdminContext } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });

/** `/api/security`: security definitions; secrets are write-only. */
export function securityRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/api/security', async () => ctx.security.list());

  app.post('/api/security', { schema: { body: SecurityInputSchema } }, async (req, reply) => {
    return reply.status(201).send(await ctx.security.create(req.body as SecurityInput));
  });

  app.get('/api/security/:name', { schema: { params: NameParams } }, async (req) => {
    return ctx.security.get((req.params as { name: string }).name);
  });

  app.put('/api/security/:name', { schema: { params: NameParams, body: SecurityInputSchema } }, async (req) => {
    const { name } = req.params as { name: string };
    const input = req.body as SecurityInput;
    const users = input.name !== name ? await usersOf(ctx, name) : [];
    if (users.length) throw new ConflictError('security_in_use', `Cannot rename: used by ${users.join(', ')}`, { field: 'name' });
    return ctx.security.update(name, input);
  });

  app.delete('/api/security/:name', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    await ctx.security.get(name);
    const users = await usersOf(ctx, name);
    if (users.length) throw new ConflictError('security_in_use', `Used by ${users.join(', ')}`);
    return ctx.security.delete(name);
  });
}

async function usersOf(ctx: AdminContext, name: string): Promise<string[]> {
  const channels = (await ctx.channels.usingSecurity(name)).map((n) => `channel ${n}`);
  const outgoing = (await ctx.outgoing.usingSecurity(name)).map((n) => `outgoing connection ${n}`);
  return [...channels, ...outgoing];
}
