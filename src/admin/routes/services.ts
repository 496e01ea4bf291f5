import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ServiceNotFoundError } from '../../errors/index.js';
import { describeIO, type DeployedService } from '../../services/index.js';
import type { AdminContext } from '../context.js';
import { emptyBodyAsObject } from './body.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const InvokeBody = Type.Object({ request: Type.Optional(Type.Unknown()) }, { additionalProperties: false });

/** `/api/services`: deployed services, hot-deployment status, and invoking a service. */
export function serviceRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/api/services', async () => ctx.registry.list().map(describe));

  // The static segment wins over `:name`: a service named `deployments` can be invoked, not fetched alone.
  app.get('/api/services/deployments', async () => ctx.deployer?.status() ?? []);

  app.get('/api/services/:name', { schema: { params: NameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    const service = ctx.registry.get(name);
    if (!service) throw new ServiceNotFoundError('service_not_found', `Service not found: ${name}`);
    return describe(service);
  });

  app.post(
    '/api/services/:name/invoke',
    { schema: { params: NameParams, body: InvokeBody }, preValidation: emptyBodyAsObject },
    async (req) => {
      const { name } = req.params as { name: string };
      const body = (req.body ?? {}) as { request?: unknown };
      const response = await ctx.invoker.invoke(name, body.request, { channel: { type: 'admin', name: 'admin' } });
      return { response: response ?? null };
    },
  );
}

/** A service as the API shows it, in the list and alone. */
function describe(s: DeployedService) {
  return { name: s.name, source: s.source, deployedAt: s.deployedAt.toISOString(), isAlias: s.isAlias, io: describeIO(s.cls.io) };
}
