import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors/index.js';
import { CLOSE_CODE } from '../../protocol/index.js';
import { ChangeFollower, type ConfigChange, type Store } from '../../store/index.js';
import type { WsxChannelHandle, WsxChannels, WsxClientInfo } from '../../services/index.js';
import { channelTlsFiles, parseAddress, type ChannelConfig } from './config.js';
import { ChannelRuntime, type ChannelDeps, type ChannelEvents } from './channel-runtime.js';
import type { ChannelDefinitions } from './definitions.js';
import { PortListener, type ListenerOptions } from './port-listener.js';
import type { MessageStats, PushTarget } from './connection.js';
import { ClusterChannel } from './cluster-channel.js';
import { TapRegistry } from './tap-registry.js';
import type { RemoteClients, ServerClientInfo } from './remote-clients.js';
import { TopicAccess, type PatternLayer, type StoredSecurityDefinition } from '../../security/index.js';

/** A channel's live state, as the admin API shows it. */
export interface ChannelState {
  readonly state: 'listening' | 'stopped' | 'error';
  readonly error?: string;
  /** The port bound, when listening. */
  readonly port?: number;
  /** Where the channel listens, when the server's `portOffset` moves it away from its stored address. */
  readonly listenAddress?: string;
  readonly connections: number;
  /** Pub/sub permissions when listening: `any` (no patterns on the channel or its security definition) or `restricted`. */
  readonly topics?: 'any' | 'restricted';
}

/** Whether the clients of one channel may publish to / subscribe to a topic (`open`: the channel has no patterns). */
export interface TopicAccessView {
  readonly channel: string;
  readonly security: string | null;
  readonly open: boolean;
  readonly publish: boolean;
  readonly subscribe: boolean;
}

interface Running {
  readonly runtime: ChannelRuntime;
  readonly listener: PortListener;
  readonly path: string;
  readonly listenAddress: string | undefined;
}

/** A client left (`client-closed`). */
export interface ClientClosedEvent {
  readonly channelName: string;
  readonly pubClientId: string;
}

/** A `client-response` that answered no pending request (`client-response`), e.g. a pub/sub acknowledgement. */
export interface ClientResponseEvent extends ClientClosedEvent {
  readonly inReplyTo: string;
  readonly response: unknown;
}

/**
 * Keeps the running channels equal to the stored ones: starts, reconfigures and stops them as the store
 * announces changes, and shares one listener between channels on the same host:port.
 * Emits `client-closed` (`ClientClosedEvent`) and `client-response` (`ClientResponseEvent`).
 */
export class ChannelManager extends EventEmitter implements WsxChannels {
  readonly #definitions: ChannelDefinitions;
  readonly #securityFollower: ChangeFollower<StoredSecurityDefinition>;
  readonly #deps: ChannelDeps;
  readonly #logger: Logger;
  readonly #running = new Map<string, Running>();
  readonly #listeners = new Map<string, PortListener>();
  readonly #errors = new Map<string, string>();
  // Totals per channel name, kept across restarts of a channel so that metrics stay monotonic.
  readonly #stats = new Map<string, MessageStats>();
  readonly #follower: ChangeFollower<ChannelConfig>;
  readonly #listenerOptions: ListenerOptions | undefined;
  readonly #portOffset: number;
  #remote: RemoteClients | undefined;
  /** This server's taps on the channels' frames (tap-registry.ts). */
  readonly taps = new TapRegistry();

  readonly #events: ChannelEvents = {
    clientReady: (client) => this.#remote?.record(client),
    clientClosed: (channelName, pubClientId, hadSession) => {
      if (hadSession) this.#remote?.forget(pubClientId);
      this.emit('client-closed', { channelName, pubClientId } satisfies ClientClosedEvent);
    },
    unclaimedResponse: (channelName, pubClientId, inReplyTo, response) =>
      this.emit('client-response', { channelName, pubClientId, inReplyTo, response } satisfies ClientResponseEvent),
  };

  /** `portOffset` is added to every channel's stored port when it listens (several servers on one host). */
  constructor(options: {
    store: Store;
    definitions: ChannelDefinitions;
    deps: ChannelDeps;
    listener?: ListenerOptions;
    portOffset?: number;
  }) {
    super();
    this.#listenerOptions = options.listener;
    this.#portOffset = options.portOffset ?? 0;
    this.#definitions = options.definitions;
    this.#deps = { ...options.deps, taps: this.taps };
    this.#logger = options.deps.logger.child({ part: 'channels' });
    this.#follower = new ChangeFollower<ChannelConfig>(
      options.store,
      'channel',
      (change) => this.#apply(change),
      (err) => this.#logger.error({ err }, 'Applying a channel change failed'),
    );
    // In the channels' queue, so that a channel change and a security change are applied one after the other.
    this.#securityFollower = new ChangeFollower<StoredSecurityDefinition>(
      options.store,
      'security',
      async (change) => this.#follower.run(() => this.#applySecurity(change)),
      (err) => this.#logger.error({ err }, 'Applying a security change failed'),
    );
  }

  /** Starts every active stored channel and follows changes from then on. */
  async start(): Promise<void> {
    this.#follower.start();
    this.#securityFollower.start();
    for (const config of await this.#definitions.list()) this.#follower.run(() => this.#startChannel(config));
    await this.settled();
  }

  /** Resolves once every change announced so far has been applied. */
  async settled(): Promise<void> {
    await this.#securityFollower.settled();
    return this.#follower.settled();
  }

  /** Stops every channel (clients get 1001) and listener. */
  async close(): Promise<void> {
    this.#follower.stop();
    this.#securityFollower.stop();
    await this.settled();
    for (const name of [...this.#running.keys()]) await this.#stopChannel(name, CLOSE_CODE.GOING_AWAY, 'Server is shutting down');
  }

  /** Closes every client of every channel with `code` (the channels keep listening: the clients may reconnect). */
  disconnectEveryone(code: number, reason: string): void {
    for (const { runtime } of this.#running.values()) runtime.disconnectAll(code, reason);
  }

  /** The live state of a channel. */
  state(name: string): ChannelState {
    const running = this.#running.get(name);
    if (running) {
      const { listener, runtime, listenAddress } = running;
      return {
        state: 'listening',
        port: listener.boundPort,
        connections: runtime.connectionCount,
        topics: runtime.topicAccess.open ? 'any' : 'restricted',
        ...(listenAddress && { listenAddress }),
      };
    }
    const error = this.#errors.get(name);
    return error ? { state: 'error', error, connections: 0 } : { state: 'stopped', connections: 0 };
  }

  /** Who may publish to and subscribe to `topic`: every running zato channel, by its pub/sub patterns. */
  topicAccess(topic: string): TopicAccessView[] {
    const out: TopicAccessView[] = [];
    for (const { runtime } of this.#running.values()) {
      const { config, topicAccess } = runtime;
      if (config.protocol !== 'zato') continue;
      const [publish, subscribe] = [topicAccess.allows('pub', topic), topicAccess.allows('sub', topic)];
      out.push({ channel: config.name, security: config.security, open: topicAccess.open, publish, subscribe });
    }
    return out.sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /** Message totals and open connections per channel (for metrics). */
  statistics(): Array<{ name: string; connections: number } & MessageStats> {
    return [...this.#stats].map(([name, stats]) => ({
      name,
      connections: this.#running.get(name)?.runtime.connectionCount ?? 0,
      ...stats,
    }));
  }

  #statsOf(name: string): MessageStats {
    let stats = this.#stats.get(name);
    if (!stats) this.#stats.set(name, (stats = { messagesIn: 0, messagesOut: 0 }));
    return stats;
  }

  /**
   * Makes the clients of the other servers of a cluster reachable (before `start`): `channel(name)` then reaches a
   * client on any server, and this server's clients are recorded where the others can find them.
   */
  useRemote(remote: RemoteClients): void {
    this.#remote = remote;
  }

  /** A running channel's clients and calls, on any server of a cluster; 404 when the channel is not running here. */
  channel(name: string): WsxChannelHandle & { clients(): WsxClientInfo[]; pushTarget(pubClientId: string): PushTarget } {
    const runtime = this.localChannel(name);
    return this.#remote ? new ClusterChannel(runtime, this.#remote) : runtime;
  }

  /** A running channel's clients on this server only (what a call from another server of the cluster runs). */
  localChannel(name: string): ChannelRuntime {
    const running = this.#running.get(name);
    if (!running) throw new NotFoundError('channel_not_running', `Channel ${name} is not running`);
    return running.runtime;
  }

  /** The channel's clients on the other servers of the cluster ([] without one). */
  async otherServersClients(name: string): Promise<ServerClientInfo[]> {
    return this.#remote ? this.#remote.list(name) : [];
  }

  async #apply(change: ConfigChange<ChannelConfig>): Promise<void> {
    const { previous, current } = change;
    const running = this.#running.get(change.name);
    if (!current || !current.isActive) {
      this.#errors.delete(change.name);
      if (running)
        await this.#stopChannel(change.name, CLOSE_CODE.GOING_AWAY, current ? 'Channel deactivated' : 'Channel deleted');
      return;
    }
    if (!running || !previous) {
      if (running) await this.#stopChannel(change.name, CLOSE_CODE.SERVICE_RESTART, 'Channel reconfigured');
      return this.#startChannel(current);
    }
    const mustRestart =
      previous.name !== current.name || previous.address !== current.address || previous.protocol !== current.protocol;
    if (mustRestart) {
      await this.#stopChannel(change.name, CLOSE_CODE.SERVICE_RESTART, 'Channel reconfigured');
      return this.#startChannel(current);
    }
    if (previous.tlsCertFile !== current.tlsCertFile || previous.tlsKeyFile !== current.tlsKeyFile) {
      if (running.listener.routeCount > 1) {
        // Another channel serves the old files on this port (definitions refuse that; a race in a cluster may not).
        await this.#stopChannel(change.name, CLOSE_CODE.SERVICE_RESTART, 'Channel reconfigured');
        return this.#startChannel(current);
      }
      this.#useTlsFiles(running.listener, current);
    }
    running.runtime.updateConfig(current);
    await this.#refreshAccess(running.runtime);
    if (previous.security !== current.security || !samePatterns(previous.topicPatterns, current.topicPatterns)) {
      // Sessions and subscriptions were granted under the old rules; resuming checks the new ones.
      running.runtime.disconnectAll(CLOSE_CODE.SERVICE_RESTART, 'Channel security changed');
    }
  }

  /** A security definition changed: the channels using it get its new pub/sub patterns. */
  async #applySecurity(change: ConfigChange<StoredSecurityDefinition>): Promise<void> {
    const before = change.previous?.topicPatterns ?? [];
    const after = change.current?.topicPatterns ?? [];
    for (const { runtime } of this.#running.values()) {
      if (runtime.config.security !== change.name) continue;
      await this.#refreshAccess(runtime);
      if (!samePatterns(before, after)) runtime.disconnectAll(CLOSE_CODE.SERVICE_RESTART, 'Channel security changed');
    }
  }

  async #refreshAccess(runtime: ChannelRuntime): Promise<void> {
    const { config } = runtime;
    const layers: PatternLayer[] = [{ source: 'channel', name: config.name, patterns: config.topicPatterns }];
    if (config.security) {
      const patterns = await this.#deps.security.topicPatterns(config.security);
      layers.push({ source: 'security', name: config.security, patterns });
    }
    runtime.topicAccess = new TopicAccess(layers);
  }

  async #startChannel(config: ChannelConfig): Promise<void> {
    if (!config.isActive) return;
    this.#errors.delete(config.name);
    const address = parseAddress(config.address);
    // Port 0 (any free port) stays 0; the stored address never changes, only where it is served.
    const port = this.#portOffset && address.port ? address.port + this.#portOffset : address.port;
    const key = `${address.host}:${port}`;
    const tls = channelTlsFiles(config);
    let listener = this.#listeners.get(key);
    if (listener && !listener.serves(tls)) {
      return this.#failed(config.name, `Cannot listen on ${key}: another channel serves it with other TLS settings`);
    }
    if (!listener) {
      let created: PortListener | undefined;
      try {
        // The TLS files are read here: a file removed since it was configured is this channel's error, not a crash.
        created = new PortListener(address.host, port, this.#logger, this.#listenerOptions, tls);
        await created.listen();
      } catch (err) {
        await created?.close();
        return this.#failed(config.name, `Cannot listen on ${key}: ${(err as Error).message}`);
      }
      listener = created;
      this.#listeners.set(key, listener);
    }
    const runtime = new ChannelRuntime(config, this.#deps, this.#events, this.#statsOf(config.name));
    await this.#refreshAccess(runtime);
    listener.route(address.path, runtime);
    const listenAddress = port === address.port ? undefined : offsetAddress(config.address, port);
    this.#running.set(config.name, { runtime, listener, path: address.path, listenAddress });
    this.#logger.info(
      { channel: config.name, address: config.address, protocol: config.protocol, ...(listenAddress && { listenAddress }) },
      'Channel listening',
    );
  }

  #failed(name: string, message: string): void {
    this.#errors.set(name, message);
    this.#logger.error({ channel: name, err: message }, 'Channel could not start');
  }

  // The last channel on a port changed its files: the listener re-contexts, its clients stay connected.
  #useTlsFiles(listener: PortListener, config: ChannelConfig): void {
    const tls = channelTlsFiles(config);
    if (!tls) return;
    try {
      listener.useTlsFiles(tls);
      this.#logger.info({ channel: config.name, certFile: tls.certFile }, 'Channel TLS files changed');
    } catch (err) {
      this.#logger.error({ channel: config.name, err: (err as Error).message }, 'New TLS files cannot be used; the old stay');
    }
  }

  async #stopChannel(name: string, code: number, reason: string): Promise<void> {
    const running = this.#running.get(name);
    if (!running) return;
    this.#running.delete(name);
    running.listener.unroute(running.path, running.runtime);
    running.runtime.close(code, reason);
    if (running.listener.isEmpty) {
      const key = `${running.listener.host}:${running.listener.port}`;
      this.#listeners.delete(key);
      await running.listener.close();
    }
    this.#logger.info({ channel: name, reason }, 'Channel stopped');
  }
}

function samePatterns(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/** The stored address with the port it is actually served on. */
function offsetAddress(address: string, port: number): string {
  const url = new URL(address);
  url.port = String(port);
  return url.toString();
}
