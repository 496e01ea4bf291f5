import type { Logger } from 'pino';
import type { Metrics } from '../observability/index.js';
import type { ChannelManager } from '../channels/wsx/index.js';
import { randomBytes } from 'node:crypto';
import { Cluster, standaloneCluster, type ClusterView, type LocalClients } from '../cluster/index.js';
import { CLOSE_CODE } from '../protocol/index.js';
import type { Store } from '../store/index.js';
import type { Settings } from './settings.js';
import { VERSION } from './version.js';

/**
 * The cluster part of a server on PostgreSQL (undefined on SQLite, where one server owns its file). A fenced server
 * closes every client with 1012 (service restart): they reconnect, to it or through the load balancer to another.
 * The channels then reach the clients of every server, and calls from the others reach this server's own.
 */
export function clusterFor(
  settings: Settings,
  store: Store,
  channelManager: ChannelManager,
  logger: Logger,
): Cluster | undefined {
  if (store.dialect !== 'postgres') return undefined;
  const cluster = new Cluster({
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
    local: localClients(channelManager),
    logger,
  });
  channelManager.useRemote(cluster.clients);
  return cluster;
}

/** This server's clients only, as a call from another server reaches them. */
function localClients(channelManager: ChannelManager): LocalClients {
  const channel = (name: string) => channelManager.localChannel(name);
  return {
    invoke: (name, pubClientId, data, timeout) => channel(name).invoke(pubClientId, data, { timeout }),
    send: (name, pubClientId, data) => channel(name).send(pubClientId, data),
    disconnect: (name, pubClientId, code, reason) => channel(name).disconnect(pubClientId, code, reason),
    // A channel not running here has no clients here.
    broadcast: async (name, data) => (channelManager.state(name).state === 'listening' ? channel(name).broadcast(data) : 0),
  };
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

function clientCount(channelManager: ChannelManager): number {
  return channelManager.statistics().reduce((n, c) => n + c.connections, 0);
}

/** The cluster's series on /metrics (docs/admin-api.md lists them). */
export function registerClusterMetrics(metrics: Metrics, cluster: Cluster): void {
  metrics.gauge('switchboard_cluster_housekeeper', '1 while this server does the cluster housekeeping', [], () => [
    [{}, cluster.membership.housekeeper ? 1 : 0],
  ]);
  metrics.counter('switchboard_cluster_fencings_total', 'Times this server found itself reaped and registered again', [], () => [
    [{}, cluster.membership.fencings],
  ]);
  metrics.counter('switchboard_cluster_listen_reconnects_total', 'Re-LISTENs of the LISTEN connection after a loss', [], () => [
    [{}, cluster.listener.reconnects],
  ]);
  metrics.counter(
    'switchboard_cluster_config_changes_applied_total',
    'Config changes made on other servers applied here',
    [],
    () => [[{}, cluster.fanout.applied]],
  );
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
