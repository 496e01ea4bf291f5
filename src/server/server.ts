import { join } from 'node:path';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAdminServer } from '../admin/index.js';
import { ChannelDefinitions, ChannelManager } from '../channels/wsx/index.js';
import { EventLoopWatchdog, Metrics, createLogger } from '../observability/index.js';
import { OutgoingDefinitions, OutgoingManager } from '../outgoing/wsx/index.js';
import { PubSub, TopicDefinitions, pubsubServices } from '../pubsub/index.js';
import { SecretBox, SecurityDefinitions } from '../security/index.js';
import {
  HotDeployer,
  ServiceFaults,
  ServiceInvoker,
  ServiceRegistry,
  enableServiceScopes,
  guardProcess,
  registerBuiltins,
} from '../services/index.js';
import { Store } from '../store/index.js';
import { resolveAdminToken } from './admin-token.js';
import { clusterFor, registerClusterMetrics, standaloneView } from './cluster-wiring.js';
import { MemoryGuard } from './memory-guard.js';
import { seedOnce } from './seed.js';
import { lateBoundEnvironment } from './service-environment.js';
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
  /** The event-loop stall watchdog; undefined when `stallWarnMs` is 0. */
  readonly watchdog: EventLoopWatchdog | undefined;
  /** Refuses new WebSocket connections while the heap is above `memoryGuardFraction`. */
  readonly memoryGuard: MemoryGuard;
  /** `http://host:port` of the admin API (`https://` with adminTlsCert). */
  readonly adminUrl: string;
  readonly adminToken: string;
  /** True when this start created the admin token file. */
  readonly adminTokenGenerated: boolean;
  /** `$dataDir/admin-token`: where a generated token is kept (it may not exist when the token is configured). */
  readonly adminTokenFile: string;
  /** `serverName`, or by default the host name, ':' and the admin port. */
  readonly serverName: string;
  /** True when this start seeded the demo channels. */
  readonly seeded: boolean;
  /** Stops everything: clients get close 1001, the database is closed. */
  close(): Promise<void>;
}

/**
 * Starts a server in two phases. First every part is built and wired through its constructor, and every built-in
 * and deployed service is registered; only then do the channels and the admin API listen, so that the first client
 * finds the whole server (fastify's `listen()` waits for `ready()` in the same way). Shutdown runs in reverse.
 */
export async function startServer(overrides: Partial<Settings> = {}, logger: Logger = createLogger()): Promise<RunningServer> {
  const settings = loadSettings(overrides);
  // First, so that a token too short is refused before anything listens.
  const { token, generated, file: adminTokenFile } = resolveAdminToken(settings.dataDir, settings.adminToken);
  const store = await Store.open({ path: settings.db, poolMax: settings.pgPoolMax });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  let closing: Promise<void> | undefined;
  // Parts stop in the reverse order they started; calling close twice waits for the first.
  const closeAll = () =>
    (closing ??= (async () => {
      for (const close of [...closers].reverse())
        await close().catch((err: unknown) => logger.error({ err }, 'Shutdown step failed'));
    })());
  try {
    const metrics = new Metrics();
    // Before any service code runs: an error it throws from a timer or event must not end the process.
    const faults = new ServiceFaults(logger, metrics);
    if (settings.serviceScopes) enableServiceScopes();
    const unguard = guardProcess(faults);
    closers.push(async () => unguard());
    const watchdog = startWatchdog(settings, logger);
    if (watchdog) closers.push(() => watchdog.close());

    const box = SecretBox.load({
      key: settings.secretKey,
      keyFile: settings.secretKeyFile,
      defaultFile: join(settings.dataDir, 'secret-key'),
    });
    const security = new SecurityDefinitions(store, box);
    await reportUnreadableSecrets(security, box, logger);
    const parts = buildParts({ settings, logger, store, security, metrics, faults, watchdog });
    const { deployer, channelManager, pubsub, outgoingManager, memoryGuard } = parts;
    // Before the parts load their config, so that no change committed meanwhile is missed (cluster-notes §3.4).
    // A name known now is taken before anything listens; the default with admin port 0 only once the admin listens.
    const knownName = settings.serverName ?? (settings.adminPort ? `${hostname()}:${settings.adminPort}` : undefined);
    const cluster = clusterFor(settings, store, channelManager, logger);
    if (cluster) {
      closers.push(() => cluster.close());
      pubsub.useCluster(cluster.pubsub);
      registerClusterMetrics(metrics, cluster);
      if (knownName) await cluster.join(knownName);
      await cluster.prepare();
    }
    // The default name needs the admin port, which port 0 leaves unknown until the admin listens.
    let serverName = settings.serverName ?? '';
    const view = cluster ?? standaloneView(settings, () => serverName, channelManager);
    const topics = new TopicDefinitions(pubsub);
    const admin = createAdminServer(
      {
        version: VERSION,
        serverName: () => serverName,
        storeReachable: () => store.reachable,
        ...parts,
        topics,
        security,
        metrics,
        cluster: view,
      },
      {
        token,
        user: settings.adminUser,
        password: settings.adminPassword,
        logger,
        host: settings.adminHost,
        allowedHosts: settings.adminAllowedHosts,
        headersTimeout: settings.adminHeadersTimeoutMs,
        requestTimeout: settings.adminRequestTimeoutMs,
        bodyLimit: settings.adminBodyLimit,
        authFailureLimit: settings.adminAuthFailureLimit,
        tls:
          settings.adminTlsCert && settings.adminTlsKey
            ? { certFile: settings.adminTlsCert, keyFile: settings.adminTlsKey }
            : undefined,
      },
    );

    // Every service is registered before anything listens: a client's first call must not find it missing.
    await deployer.start();
    closers.push(() => deployer.close());
    const seeded = await seedOnce(store, parts.channels, settings);
    memoryGuard.start();
    closers.push(async () => memoryGuard.stop());
    // Each closer is safe before its part starts, so a failed start stops what it began. Pub/sub stops before the
    // channels: clients closed at shutdown keep their subscriptions (an `unsubOnWsxClose` one would be deleted).
    closers.push(() => channelManager.close());
    await pubsub.start();
    closers.push(() => pubsub.close());
    await outgoingManager.load();
    closers.push(() => outgoingManager.close());

    await channelManager.start();
    cluster?.follow();
    // After the channels, so that a connection to a channel of this same server finds it listening.
    await outgoingManager.start();
    await admin.listen({ host: settings.adminHost, port: settings.adminPort });
    closers.push(() => admin.close());
    const address = admin.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.adminPort;
    serverName ||= `${hostname()}:${port}`;
    if (!knownName) await cluster?.join(serverName);
    logger.info({ server: serverName, portOffset: settings.portOffset }, 'Server started');

    return {
      ...parts,
      settings,
      logger,
      store,
      security,
      admin,
      metrics,
      watchdog,
      adminUrl: `${settings.adminTlsCert ? 'https' : 'http'}://${settings.adminHost.includes(':') ? `[${settings.adminHost}]` : settings.adminHost}:${port}`,
      adminToken: token,
      adminTokenGenerated: generated,
      adminTokenFile,
      seeded,
      serverName,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

interface PartsInput {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly store: Store;
  readonly security: SecurityDefinitions;
  readonly metrics: Metrics;
  readonly faults: ServiceFaults;
  readonly watchdog: EventLoopWatchdog | undefined;
}

interface Parts extends Pick<
  RunningServer,
  'registry' | 'invoker' | 'channels' | 'channelManager' | 'outgoing' | 'outgoingManager' | 'pubsub' | 'deployer'
> {
  readonly memoryGuard: MemoryGuard;
}

// Builds and wires every part; nothing listens, connects or loads yet.
function buildParts({ settings, logger, store, security, metrics, faults, watchdog }: PartsInput): Parts {
  const registry = new ServiceRegistry();
  registerBuiltins(registry);
  const late = lateBoundEnvironment();
  const invoker = new ServiceInvoker({ registry, logger, environment: late.environment, metrics, faultOwner: faults, watchdog });
  const deployer = new HotDeployer({
    dir: settings.servicesDir,
    outDir: join(settings.dataDir, 'deploy'),
    markerDir: join(settings.dataDir, 'deploying'),
    registry,
    logger,
    deployTimeoutMs: settings.deployTimeoutMs,
    faultOwner: faults,
    watchdog,
  });
  faults.attributor = (stack) => deployer.attribute(stack);

  const channels = new ChannelDefinitions(store, security);
  const outgoing = new OutgoingDefinitions(store, security);
  const memoryGuard = new MemoryGuard(settings.memoryGuardFraction, logger);
  const channelManager = new ChannelManager({
    store,
    definitions: channels,
    deps: { invoker, security, logger, metrics, admission: memoryGuard },
    listener: { headersTimeoutMs: settings.channelHeadersTimeoutMs },
    portOffset: settings.portOffset,
  });
  const pubsub = new PubSub({ store, channels: channelManager, logger });
  registry.replaceSource(
    'builtin:pubsub',
    pubsubServices(pubsub, channelManager).map((cls) => ({ name: cls.serviceName!, cls })),
  );
  const outgoingManager = new OutgoingManager({ store, definitions: outgoing, invoker, credentials: security, logger });
  late.bind({ channels: channelManager, outgoing: outgoingManager, pubsub });

  registerCollectors(metrics, channelManager, outgoingManager, pubsub);
  if (watchdog) registerStallCollectors(metrics, watchdog);
  metrics.memoryGuard(memoryGuard);
  return { registry, invoker, channels, channelManager, outgoing, outgoingManager, pubsub, deployer, memoryGuard };
}

function startWatchdog(settings: Settings, logger: Logger): EventLoopWatchdog | undefined {
  if (settings.stallWarnMs <= 0) return undefined;
  const watchdog = new EventLoopWatchdog({ warnMs: settings.stallWarnMs, exitMs: settings.stallExitMs, logger });
  watchdog.start();
  return watchdog;
}

// Event-loop lag itself is prom-client's `switchboard_nodejs_eventloop_lag_*`; these count the stalls.
function registerStallCollectors(metrics: Metrics, watchdog: EventLoopWatchdog): void {
  metrics.counter('switchboard_eventloop_stalls_total', 'Times the event loop was blocked for stallWarnMs or more', [], () => [
    [{}, watchdog.statistics().stalls],
  ]);
  metrics.counter('switchboard_eventloop_stalled_seconds_total', 'Time the event loop spent in such stalls', [], () => [
    [{}, watchdog.statistics().totalMs / 1000],
  ]);
  metrics.gauge('switchboard_eventloop_longest_stall_seconds', 'The longest stall since start', [], () => [
    [{}, watchdog.statistics().longestMs / 1000],
  ]);
}

/**
 * A key other than the one the stored credentials were encrypted with is logged once, naming the definitions; the
 * server still starts (channels do not need the key), and connections using them say why they cannot log in.
 */
async function reportUnreadableSecrets(security: SecurityDefinitions, box: SecretBox, logger: Logger): Promise<void> {
  const unreadable = await security.unreadableSecrets();
  if (!unreadable.length) return;
  logger.error(
    { code: 'secret_key_mismatch', definitions: unreadable, keySource: box.source },
    'Stored secrets were encrypted under another key than the one from %s: restore that key, or set the passwords of %s again',
    box.source,
    unreadable.join(', '),
  );
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
  metrics.counter(
    'switchboard_outgoing_bad_frames_total',
    'Malformed frames from the remote ignored (and own sends skipped while it did not read) per outgoing connection',
    ['connection'],
    () => outgoing.statistics().map((c) => [{ connection: c.name }, c.badFrames] as const),
  );
  metrics.gauge(
    'switchboard_pubsub_depth',
    "Messages waiting per topic (gd: stored; non_gd: in subscribers' memory queues)",
    ['topic', 'kind'],
    async () => {
      const samples: Array<readonly [Record<string, string>, number]> = [];
      for (const topic of await pubsub.topics.list()) {
        const depth = await pubsub.depth(topic.name);
        samples.push([{ topic: topic.name, kind: 'gd' }, depth.gd], [{ topic: topic.name, kind: 'non_gd' }, depth.nonGd]);
      }
      return samples;
    },
  );
  metrics.counter(
    'switchboard_pubsub_dropped_total',
    "Messages dropped for subscribers (queue at subMaxDepthGd / maxDepthNonGd, or larger than the channel's maxMessageSize), by topic",
    ['topic'],
    () => [...pubsub.droppedByTopic()].map(([topic, n]) => [{ topic }, n] as const),
  );
  metrics.gauge(
    'switchboard_pubsub_suspended_subscriptions',
    'Subscriptions suspended at their queue limit, by topic',
    ['topic'],
    () => {
      const counts = new Map<string, number>();
      for (const s of pubsub.subscriptions()) if (s.suspended) counts.set(s.topicName, (counts.get(s.topicName) ?? 0) + 1);
      return [...counts].map(([topic, n]) => [{ topic }, n] as const);
    },
  );
}
