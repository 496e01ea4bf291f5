import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';

const MemberSchema = Type.Object({
  name: Type.String(),
  serverId: Type.String(),
  host: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  heartbeatAgeMs: Type.Number({ minimum: 0 }),
  clients: Type.Integer({ minimum: 0 }),
  housekeeping: Type.Boolean(),
  self: Type.Boolean(),
});

const ClusterSchema = Type.Object({
  clustered: Type.Boolean(),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  self: Type.String(),
  housekeeper: Type.Union([Type.String(), Type.Null()]),
  heartbeatMs: Type.Integer({ minimum: 0 }),
  expiryMs: Type.Integer({ minimum: 0 }),
  servers: Type.Array(MemberSchema),
});

/** `GET /api/cluster`: the servers sharing this one's database, their heartbeat age, clients, and the housekeeper. */
export function clusterRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/cluster',
    {
      schema: {
        summary: 'The servers of the cluster: heartbeat age, clients, which one does housekeeping',
        response: { 200: ClusterSchema },
      },
    },
    async () => ctx.cluster.describe(),
  );
}
