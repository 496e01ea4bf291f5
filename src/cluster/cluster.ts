import type { Logger } from 'pino';
import { ClusterRepository, type Store } from '../store/index.js';
import { ClusterClients } from './cluster-clients.js';
import { ConfigFanout } from './config-fanout.js';
import { ClusterListener, channelName } from './listener.js';
import { Membership } from './membership.js';
import { PubSubLink } from './pubsub-link.js';
import type { LocalClients } from './remote-calls.js';
import type { ClusterDescription, ClusterView } from './view.js';

/** The timings of a clustered server (settings `cluster*Ms`; cluster-notes §3.4 for the defaults). */
export interface ClusterTimings {
  readonly heartbeatMs: number;
  readonly expiryMs: number;
  /** The floor of config fan-out: a server reads the change table at least this often, NOTIFY or not. */
  readonly pollMs: number;
  /** The LISTEN connection's liveness probe. */
  readonly probeMs: number;
}

/** What a clustered server needs from the rest of the server. */
export interface ClusterOptions {
  readonly store: Store;
  readonly version: string;
  readonly timings: ClusterTimings;
  readonly clients: () => number;
  /** Called when this server finds itself reaped (fenced): close every client; they reconnect elsewhere or here. */
  readonly onFenced: () => void;
  /** This server's own clients, which calls from the other servers reach. */
  readonly local: LocalClients;
  readonly logger: Logger;
}

/**
 * One server's part in a cluster on PostgreSQL (DESIGN §7): membership and housekeeping, config fan-out, and the
 * LISTEN connection that wakes both. Join and prepare it before the parts load their config, follow once they have.
 */
export class Cluster implements ClusterView {
  readonly membership: Membership;
  readonly fanout: ConfigFanout;
  readonly listener: ClusterListener;
  /** Clients on any server: what the channels use to reach the other servers' clients. */
  readonly clients: ClusterClients;
  /** Pub/sub's side of the cluster (its `PubSubCluster` port). */
  readonly pubsub: PubSubLink;
  readonly #repo: ClusterRepository;
  readonly #log: Logger;
  readonly #configChannel: string;

  constructor(options: ClusterOptions) {
    const location = options.store.postgres;
    if (!location) throw new Error('A cluster needs a PostgreSQL store');
    this.#log = options.logger.child({ part: 'cluster' });
    this.#repo = new ClusterRepository(options.store);
    this.#configChannel = channelName(location.schema, 'config');
    const { heartbeatMs, expiryMs, pollMs, probeMs } = options.timings;
    let clients: ClusterClients | undefined;
    this.membership = new Membership({
      repository: this.#repo,
      location,
      version: options.version,
      heartbeatMs,
      expiryMs,
      clients: options.clients,
      chores: () => clients?.trim() ?? Promise.resolve(),
      logger: options.logger,
    });
    this.membership.on('fenced', options.onFenced);
    this.clients = clients = new ClusterClients({
      store: options.store,
      repository: this.#repo,
      schema: location.schema,
      serverId: this.membership.serverId,
      expiryMs,
      local: options.local,
      logger: this.#log,
    });
    this.membership.on('reaped', (_names: string[], ids: string[]) => this.#announceReaped(ids));
    this.fanout = new ConfigFanout({
      store: options.store,
      repository: this.#repo,
      logger: this.#log,
      pollMs,
      announce: () => this.#announceConfig(),
    });
    this.pubsub = new PubSubLink({
      serverId: this.membership.serverId,
      repository: this.#repo,
      gdChannel: channelName(location.schema, 'gd'),
      ngdChannel: channelName(location.schema, 'ngd'),
      isHousekeeper: () => this.membership.housekeeper,
      // The floor under NOTIFY for GD: about 2 s with the default poll of 1 s (cluster-notes §3.7).
      sweepMs: 2 * pollMs,
      orphanTtlMs: expiryMs,
      logger: this.#log,
    });
    this.listener = new ClusterListener({
      connectionString: location.connectionString,
      applicationName: `switchboard-listen-${process.pid}`,
      channels: [
        this.#configChannel,
        ...this.clients.channels,
        channelName(location.schema, 'gd'),
        channelName(location.schema, 'ngd'),
      ],
      probeIntervalMs: probeMs,
      logger: this.#log,
    });
    this.listener.on('notification', (channel: string, payload: string) => {
      if (channel === this.#configChannel) this.fanout.wake();
      else if (!this.clients.notification(channel, payload)) this.pubsub.received(channel, payload);
    });
    // Whatever was sent while the connection was down is never replayed (cluster-notes §2): compare everything.
    this.listener.on('listening', (reconnected: boolean) => {
      if (!reconnected) return;
      this.fanout.reconcile();
      this.pubsub.resync();
    });
  }

  /** Reads the config cursor and listens: before the parts load their config. */
  async prepare(): Promise<void> {
    await this.fanout.prepare();
    await this.listener.start();
  }

  /** Registers under `name`, refusing a name a live server has (`server_name_taken`). */
  async join(name: string): Promise<void> {
    await this.membership.start(name);
    this.clients.open();
  }

  /** Starts applying other servers' config changes: once the parts have loaded theirs. */
  follow(): void {
    this.fanout.start();
    this.fanout.wake();
  }

  describe(): Promise<ClusterDescription> {
    return this.membership.describe();
  }

  async close(): Promise<void> {
    await this.fanout.close();
    await this.listener.close();
    await this.clients.close();
    await this.membership.close();
  }

  #announceReaped(ids: readonly string[]): void {
    this.clients.reaped(ids).catch((err: unknown) => {
      // Calls waiting for those servers then end at their timeout instead.
      this.#log.warn({ err }, 'NOTIFY of reaped servers failed');
    });
  }

  #announceConfig(): void {
    this.#repo.notify(this.#configChannel, '').catch((err: unknown) => {
      // The others still read the change within pollMs.
      this.#log.warn({ err }, 'NOTIFY of a config change failed');
    });
  }
}
