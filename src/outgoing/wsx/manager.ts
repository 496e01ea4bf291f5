import type { Logger } from 'pino';
import { NotFoundError } from '../../errors/index.js';
import { ChangeFollower, type ConfigChange, type Store } from '../../store/index.js';
import { storedRemoteSubKeys } from './remote-sub-keys.js';
import type { ServiceInvoker } from '../../services/index.js';
import type { OutgoingConfig } from './config.js';
import { OutgoingConnection, type ConnectionState, type OutgoingStats } from './connection.js';
import type { OutgoingDefinitions } from './definitions.js';
import { hookEvents } from './hooks.js';
import type { RemoteCredentials } from './zato-session.js';

/** Reads the credentials of a security definition, for sending to a remote. */
export interface CredentialsSource {
  reveal(name: string): Promise<RemoteCredentials>;
}

/** `this.out.wsx.get(name)`: a connection's config and its pool. */
export interface OutgoingHandle {
  readonly config: OutgoingConfig;
  readonly conn: OutgoingConnection;
}

/**
 * Keeps the open outgoing connections equal to the stored ones: opens new ones, reconnects edited ones,
 * closes deactivated and deleted ones, as the store announces changes.
 */
export class OutgoingManager {
  readonly #definitions: OutgoingDefinitions;
  readonly #store: Store;
  readonly #invoker: ServiceInvoker;
  readonly #credentials: CredentialsSource;
  readonly #logger: Logger;
  readonly #connections = new Map<string, OutgoingConnection>();
  // Totals per connection name, kept across reconnects and edits so that metrics stay monotonic.
  readonly #stats = new Map<string, OutgoingStats>();
  readonly #follower: ChangeFollower<OutgoingConfig>;
  #loaded = false;
  // False between load() and start(): connections are created but wait for the server to listen before connecting.
  #connecting = false;

  constructor(options: {
    store: Store;
    definitions: OutgoingDefinitions;
    invoker: ServiceInvoker;
    credentials: CredentialsSource;
    logger: Logger;
  }) {
    this.#definitions = options.definitions;
    this.#invoker = options.invoker;
    this.#credentials = options.credentials;
    this.#logger = options.logger.child({ part: 'outgoing' });
    this.#store = options.store;
    this.#follower = new ChangeFollower<OutgoingConfig>(
      options.store,
      'outgoing',
      async (change) => this.#apply(change),
      (err) => this.#logger.error({ err }, 'Applying an outgoing connection change failed'),
    );
  }

  /**
   * Creates every active stored connection without connecting it, and follows changes: from then on `get()` finds
   * them, and a lease waits for the connection instead of failing for a name that is stored.
   */
  async load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    this.#follower.start();
    for (const config of await this.#definitions.list()) this.#follower.run(async () => this.#open(config));
    await this.settled();
  }

  /** Loads (when not done yet) and connects every connection, without waiting for them to connect. */
  async start(): Promise<void> {
    await this.load();
    if (this.#connecting) return;
    this.#connecting = true;
    for (const conn of this.#connections.values()) conn.start();
  }

  /** Resolves once every change announced so far has been applied. */
  settled(): Promise<void> {
    return this.#follower.settled();
  }

  async close(): Promise<void> {
    this.#follower.stop();
    await this.settled();
    // Remote subscriptions stay: after the restart the connections resume them.
    for (const name of [...this.#connections.keys()]) this.#closeOne(name, 'Server is shutting down', false);
  }

  /** A connection by name; a 404 naming the connections that exist otherwise. */
  get(name: string): OutgoingHandle {
    const conn = this.#connections.get(name);
    if (!conn) {
      const known = [...this.#connections.keys()].sort();
      throw new NotFoundError(
        'outgoing_not_found',
        `No active outgoing WebSocket connection named ${name}; active: ${known.length ? known.join(', ') : 'none'}`,
      );
    }
    return { config: conn.config, conn };
  }

  /** Totals and connected sockets per connection (for metrics). */
  statistics(): Array<{ name: string; connected: number } & OutgoingStats> {
    return [...this.#stats].map(([name, stats]) => ({
      name,
      connected: this.#connections.get(name)?.state().connected ?? 0,
      ...stats,
    }));
  }

  #statsOf(name: string): OutgoingStats {
    let stats = this.#stats.get(name);
    if (!stats) this.#stats.set(name, (stats = { messagesIn: 0, messagesOut: 0, reconnects: 0, badFrames: 0 }));
    return stats;
  }

  /** Live state; `stopped` for a stored connection that is not open (inactive). */
  state(name: string): ConnectionState | { state: 'stopped'; connected: 0 } {
    return this.#connections.get(name)?.state() ?? { state: 'stopped', connected: 0 };
  }

  #apply(change: ConfigChange<OutgoingConfig>): void {
    // A connection edited under the same name resumes its remote subscriptions (and drops the topics taken off its
    // list); a deleted or renamed one ends them.
    const keepsSubscriptions = change.current?.name === change.name;
    this.#closeOne(change.name, change.current ? 'Connection reconfigured' : 'Connection deleted', !keepsSubscriptions);
    if (change.current) this.#open(change.current);
  }

  #open(config: OutgoingConfig): void {
    if (!config.isActive) return;
    const security = config.security;
    const conn = new OutgoingConnection(config, {
      events: hookEvents(config, this.#invoker, this.#logger),
      credentials: async () => (security ? this.#credentials.reveal(security) : undefined),
      logger: this.#logger,
      stats: this.#statsOf(config.name),
      subKeys: storedRemoteSubKeys(this.#store, config.name),
    });
    this.#connections.set(config.name, conn);
    if (this.#connecting) conn.start();
    this.#logger.info({ outgoing: config.name, address: config.address, isZato: config.isZato }, 'Outgoing connection opened');
  }

  #closeOne(name: string, reason: string, unsubscribe: boolean): void {
    const conn = this.#connections.get(name);
    if (!conn) return;
    this.#connections.delete(name);
    conn.stop(reason, unsubscribe);
  }
}
