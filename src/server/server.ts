import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAdminServer } from '../admin/index.js';
import { ChannelDefinitions, ChannelManager } from '../channels/wsx/index.js';
import { Metrics, createLogger } from '../observability/index.js';
import { OutgoingDefinitions, OutgoingManager } from '../outgoing/wsx/index.js';
import { PubSub, TopicDefinitions, pubsubServices } from '../pubsub/index.js';
import { SecretBox, SecurityDefinitions } from '../security/index.js';
import { HotDeployer, ServiceInvoker, ServiceRegistry, registerBuiltins } from '../services/index.js';
import { Store } from '../store/index.js';
import { resolveAdminToken } from './admin-token.js';
import { seedOnce } from './seed.js';
import { loadSettings, type Settings } from './settings.js';
import { VERSION } from './version.js';

/** A running server and its parts (what tests and embedders hold). */
export interface RunningServer {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly store: Store;
  readonly registry: ServiceRegistry;
  readonly invoker: ServiceInvoker;
  readonly security: SecurityDefinitions;
  readonly channels: ChannelDefinitions;
  readonly channelManager: ChannelManager;
  readonly outgoing: OutgoingDefinitions;
  readonly outgoingManager: OutgoingManager;
  readonly pubsub: PubSub;
  readonly deployer: HotDeployer;
  readonly admin: FastifyInstance;
  readonly metrics: Metrics;
  /** `http://host:port` of the admin API. */
  readonly adminUrl: string;
  readonly adminToken: string;
  /** True when this start created the admin token file. */
  readonly adminTokenGenerated: boolean;
  /** True when this start seeded the demo channels. */
  readonly seeded: boolean;
  /** Stops everything: clients get close 1001, the database is closed. */
  close(): Promise<void>;
}

/** Starts a server: store, services (with hot deployment), channels and the admin API. */
export async function startServer(overrides: Partial<Settings> = {}, logger: Logger = createLogger()): Promise<RunningServer> {
  const settings = loadSettings(overrides);
  const store = await Store.open({ path: settings.db });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  let closing: Promise<void> | undefined;
  // Parts stop in the reverse order they started; calling close twice waits for the first.
  const closeAll = () =>
    (closing ??= (async () => {
      for (const close of [...closers].reverse()) await close().catch((err: unknown) => logger.error({ err }, 'Shutdown step failed'));
    })());
  try {
    const security = new SecurityDefinitions(store, SecretBox.fromFile(join(settings.dataDir, 'secret-key')));
    const channels = new ChannelDefinitions(store, security);
    const outgoing = new OutgoingDefinitions(store, security);
    const registry = new ServiceRegistry();
    registerBuiltins(registry);
    const invoker = new ServiceInvoker(registry, logger);
    const metrics = new Metrics();
    invoker.metrics = metrics;

    const deployer = new HotDeployer({ dir: settings.servicesDir, outDir: join(settings.dataDir, 'deploy'), registry, logger });
    await deployer.start();
    closers.push(() => deployer.close());

    const seeded = await seedOnce(store, channels, settings);
    const channelManager = new ChannelManager({ store, definitions: channels, deps: { invoker, security, logger, metrics } });
    invoker.environment.wsx = channelManager;
    await channelManager.start();
    closers.push(() => channelManager.close());

    const pubsub = new PubSub({ store, channels: channelManager, logger });
    await pubsub.start();
    closers.push(() => pubsub.close());
    registry.replaceSource('builtin:pubsub', pubsubServices(pubsub).map((cls) => ({ name: cls.serviceName!, cls })));
    invoker.environment.pubsub = { publish: (topic, data, options = {}) => pubsub.publish(topic, { ...options, data }) };
    const topics = new TopicDefinitions(pubsub);

    // After the channels, so that a connection to a channel of this same server finds it listening.
    const outgoingManager = new OutgoingManager({ store, definitions: outgoing, invoker, credentials: security, logger });
    invoker.environment.outgoingWsx = outgoingManager;
    await outgoingManager.start();
    closers.push(() => outgoingManager.close());

    registerCollectors(metrics, channelManager, outgoingManager, pubsub);

    const { token, generated } = resolveAdminToken(settings.dataDir, settings.adminToken);
    const admin = createAdminServer(
      { version: VERSION, channels, channelManager, outgoing, outgoingManager, pubsub, topics, security, registry, invoker, deployer, metrics },
      { token, user: settings.adminUser, password: settings.adminPassword, logger },
    );
    await admin.listen({ host: settings.adminHost, port: settings.adminPort });
    closers.push(() => admin.close());
    const address = admin.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.adminPort;

    return {
      settings,
      logger,
      store,
      registry,
      invoker,
      security,
      channels,
      channelManager,
      outgoing,
      outgoingManager,
      pubsub,
      deployer,
      admin,
      metrics,
      adminUrl: `http://${settings.adminHost.includes(':') ? `[${settings.adminHost}]` : settings.adminHost}:${port}`,
      adminToken: token,
      adminTokenGenerated: generated,
      seeded,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The metrics read from the parts at scrape time (see docs/admin-api.md for the list). */
function registerCollectors(metrics: Metrics, channels: ChannelManager, outgoing: OutgoingManager, pubsub: PubSub): void {
  metrics.gauge('switchboard_wsx_connections', 'Open WebSocket connections per channel', ['channel'], () =>
    channels.statistics().map((c) => [{ channel: c.name }, c.connections] as const),
  );
  metrics.counter('switchboard_wsx_messages_in_total', 'Messages received per channel', ['channel'], () =>
    channels.statistics().map((c) => [{ channel: c.name }, c.messagesIn] as const),
  );
  metrics.counter('switchboard_wsx_messages_out_total', 'Messages sent per channel', ['channel'], () =>
    channels.statistics().map((c) => [{ channel: c.name }, c.messagesOut] as const),
  );
  metrics.gauge('switchboard_outgoing_connected', 'Connected sockets per outgoing connection', ['connection'], () =>
    outgoing.statistics().map((c) => [{ connection: c.name }, c.connected] as const),
  );
  metrics.counter('switchboard_outgoing_messages_in_total', 'Messages received per outgoing connection', ['connection'], () =>
    outgoing.statistics().map((c) => [{ connection: c.name }, c.messagesIn] as const),
  );
  metrics.counter('switchboard_outgoing_messages_out_total', 'Messages sent per outgoing connection', ['connection'], () =>
    outgoing.statistics().map((c) => [{ connection: c.name }, c.messagesOut] as const),
  );
  metrics.counter('switchboard_outgoing_reconnects_total', 'Reconnect attempts per outgoing connection', ['connection'], () =>
    outgoing.statistics().map((c) => [{ connection: c.name }, c.reconnects] as const),
  );
  metrics.gauge('switchboard_pubsub_depth', 'Messages waiting per topic (gd: stored; non_gd: in subscribers\' memory queues)', ['topic', 'kind'], async () => {
    const samples: Array<readonly [Record<string, string>, number]> = [];
    for (const topic of await pubsub.topics.list()) {
      const depth = await pubsub.depth(topic.name);
      samples.push([{ topic: topic.name, kind: 'gd' }, depth.gd], [{ topic: topic.name, kind: 'non_gd' }, depth.nonGd]);
    }
    return samples;
  });
  metrics.counter('switchboard_pubsub_dropped_total', 'Messages dropped for subscribers (queue at subMaxDepthGd / maxDepthNonGd, or larger than the channel\'s maxMessageSize), by topic', ['topic'], () =>
    [...pubsub.droppedByTopic()].map(([topic, n]) => [{ topic }, n] as const),
  );
  metrics.gauge('switchboard_pubsub_suspended_subscriptions', 'Subscriptions suspended at their queue limit, by topic', ['topic'], () => {
    const counts = new Map<string, number>();
    for (const s of pubsub.subscriptions()) if (s.suspended) counts.set(s.topicName, (counts.get(s.topicName) ?? 0) + 1);
    return [...counts].map(([topic, n]) => [{ topic }, n] as const);
  });
}
