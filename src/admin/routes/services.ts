import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { describeIO } from '../../services/index.js';
import type { AdminContext } from '../context.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const InvokeBody = Type.Object({ request: Type.Optional(Type.Unknown()) }, { additionalProperties: false });

/** `/api/services`: deployed services, hot-deployment status, and invoking a service. */
export function serviceRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/api/services', async () =>
    ctx.registry.list().map((s) => ({
      name: s.name,
      source: s.source,
      deployedAt: s.deployedAt.toISOString(),
      isAlias: s.isAlias,
      io: describeIO(s.cls.io),
    })),
  );

  app.get('/api/services/deployments', async () => ctx.deployer?.status() ?? []);

  app.post('/api/services/:name/invoke', { schema: { params: NameParams, body: InvokeBody } }, async (req) => {
    const { name } = req.params as { name: string };
    const body = (req.body ?? {}) as { request?: unknown };
    const response = await ctx.invoker.invoke(name, body.request, { channel: { type: 'admin', name: 'admin' } });
    return { response: response ?? null };
  });
}
