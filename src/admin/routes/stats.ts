import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../context.js';

const sum = <T>(rows: readonly T[], value: (row: T) => number) => rows.reduce((n, r) => n + value(r), 0);

/**
 * `/api/stats`: totals since start, read live (what `/metrics` exposes, as one JSON object). The web admin's
 * dashboard polls it and turns differences into rates.
 */
export function statsRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get(
    '/api/stats',
    { schema: { tags: ['stats'], summary: 'Live totals: connections, messages, service calls, errors' } },
    async () => {
      const channels = ctx.channelManager.statistics();
      const outgoing = ctx.outgoingManager.statistics();
      const summary = ctx.metrics?.summary() ?? { serviceCalls: 0, serviceErrors: 0, errors: {} };
      const topics = await ctx.topics.list();
      const depths = await Promise.all(topics.map(async (t) => ({ name: t.name, ...(await ctx.pubsub.depth(t.name)) })));
      return {
        at: new Date().toISOString(),
        connections: sum(channels, (c) => c.connections),
        outgoingConnected: sum(outgoing, (o) => o.connected),
        messagesIn: sum(channels, (c) => c.messagesIn) + sum(outgoing, (o) => o.messagesIn),
        messagesOut: sum(channels, (c) => c.messagesOut) + sum(outgoing, (o) => o.messagesOut),
        serviceCalls: summary.serviceCalls,
        serviceErrors: summary.serviceErrors,
        errors: sum(Object.values(summary.errors), (v) => v),
        errorsByCode: summary.errors,
        pubsubDepth: sum(depths, (d) => d.gd + d.nonGd),
        channels,
        outgoing,
        topics: depths,
      };
    },
  );
}
