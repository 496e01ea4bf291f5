import type { Logger } from 'pino';
import type { ChannelManager } from '../channels/wsx/index.js';
import { randomBytes } from 'node:crypto';
import { Cluster, standaloneCluster, type ClusterView } from '../cluster/index.js';
import type { Metrics } from '../observability/index.js';
import { CLOSE_CODE } from '../protocol/index.js';
import type { Store } from '../store/index.js';
import type { Settings } from './settings.js';
import { VERSION } from './version.js';

/**
 * The cluster part of a server on PostgreSQL (undefined on SQLite, where one server owns its file). A fenced server
 * closes every client with 1012 (service restart): they reconnect, to it or through the load balancer to another.
 */
export function clusterFor(
  settings: Settings,
  store: Store,
  channelManager: ChannelManager,
  logger: Logger,
): Cluster | undefined {
  if (store.dialect !== 'postgres') return undefined;
  return new Cluster({
    store,
    version: VERSION,
    timings: {
      heartbeatMs: settings.clusterHeartbeatMs,
      expiryMs: settings.clusterExpiryMs,
      pollMs: settings.clusterPollMs,
      probeMs: settings.clusterProbeMs,
    },
    clients: () => clientCount(channelManager),
    onFenced: () => channelManager.disconnectEveryone(CLOSE_CODE.SERVICE_RESTART, 'This server rejoins the cluster'),
    logger,
  });
}

/** The one-server view `GET /api/cluster` shows on SQLite, with the timings a cluster would use. */
export function standaloneView(settings: Settings, name: () => string, channelManager: ChannelManager): ClusterView {
  return standaloneCluster({
    name,
    version: VERSION,
    clients: () => clientCount(channelManager),
    startedAt: new Date(),
    serverId: `srv.${randomBytes(8).toString('hex')}`,
    heartbeatMs: settings.clusterHeartbeatMs,
    expiryMs: settings.clusterExpiryMs,
  });
}

/** The cluster's pub/sub counters for `/metrics`. */
export function registerClusterMetrics(metrics: Metrics, cluster: Cluster): void {
  metrics.counter(
    'switchboard_cluster_ngd_gaps_total',
    'Non-GD messages from other servers known to be missed (gaps in their NOTIFY sequence)',
    [],
    () => [[{}, cluster.pubsub.ngdGaps]],
  );
  metrics.counter(
    'switchboard_cluster_ngd_too_large_total',
    'Non-GD messages not sent to the other servers: larger than one NOTIFY payload',
    [],
    () => [[{}, cluster.pubsub.ngdTooLarge]],
  );
}

function clientCount(channelManager: ChannelManager): number {
  return channelManager.statistics().reduce((n, c) => n + c.connections, 0);
}
