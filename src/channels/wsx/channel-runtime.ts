import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors/index.js';
import { CLOSE_CODE, CLOSE_TIMEOUT_MS } from '../../protocol/index.js';
import type { ChannelInfo, ClientInvokeOptions, ServiceInvoker, WsxChannelHandle, WsxClientInfo } from '../../services/index.js';
import { OPEN_ACCESS, type SecurityDefinitions, type TopicAccess } from '../../security/index.js';
import type { Metrics } from '../../observability/index.js';
import { withChannelDefaults, type ChannelConfig } from './config.js';
import { ConnectionSlots, clientIp, type Slot } from './connection-slots.js';
import type { ConnectionHost, MessageStats, PushTarget, ChannelConnection } from './connection.js';
import { ZatoConnection } from './zato-connection.js';
import { PlainConnection } from './plain-connection.js';
import { rejectUpgrade } from './http-reply.js';
import { PushPayload } from './push-payload.js';
import { DEFLATE_OPTIONS } from './compression.js';
import { HandshakeRates } from './handshake-rates.js';
import { checkHandshake } from './handshake-auth.js';
import { TapPoint, type TapRegistry } from './tap-registry.js';

/** Client events a channel reports to its manager. */
export interface ChannelEvents {
  /** A client got its session (plain: connected). */
  clientReady(client: WsxClientInfo): void;
  /** `hadSession`: it had got one (so `clientReady` was reported). */
  clientClosed(channelName: string, pubClientId: string, hadSession: boolean): void;
  unclaimedResponse(channelName: string, pubClientId: string, inReplyTo: string, response: unknown): void;
}

/** What a channel needs from the server. */
export interface ChannelDeps {
  readonly invoker: ServiceInvoker;
  readonly security: SecurityDefinitions;
  readonly logger: Logger;
  /** Counts protocol-level errors (service errors are counted by the invoker). */
  readonly metrics?: Metrics | undefined;
  /** The server-wide memory guard: while `overloaded`, new connections are refused with 503. */
  readonly admission?: { readonly overloaded: boolean } | undefined;
  /** The server's taps (without: the channel has a tap point of its own that nothing taps). */
  readonly taps?: TapRegistry | undefined;
}

/** The sweep that pings and enforces read deadlines and call timeouts runs this often at most (and at least every 20 ms). */
const MAX_SWEEP_INTERVAL_MS = 1000;

const kSlot = Symbol('slot');
type SlotHolder = Duplex & { [kSlot]?: Slot };

// One listener shared by every socket (`this` is the socket), not a closure each: it lives as long as the connection.
function releaseSlot(this: SlotHolder): void {
  this[kSlot]?.release();
}

/**
 * One live channel: accepts upgrades routed to its path, creates a client per connection, keeps the
 * registry of connected clients, and is the `WsxChannelHandle` services use to reach them.
 */
export class ChannelRuntime implements ConnectionHost, WsxChannelHandle {
  config: ChannelConfig;
  channelInfo: ChannelInfo;
  readonly invoker: ServiceInvoker;
  readonly security: SecurityDefinitions;
  readonly logger: Logger;
  /** Who may publish and subscribe where, from the channel's and its security definition's patterns (set by the manager). */
  topicAccess: TopicAccess = OPEN_ACCESS;
  readonly taps: TapPoint;
  readonly #clients = new Map<string, ChannelConnection>();
  #wss: WebSocketServer;
  #accepting = true;
  readonly #slots = new ConnectionSlots();
  readonly #handshakes = new HandshakeRates();
  readonly #admission: ChannelDeps['admission'];
  #sweepTimer: NodeJS.Timeout | undefined;

  readonly #events: ChannelEvents;
  readonly #metrics: Metrics | undefined;
  readonly stats: MessageStats;

  constructor(config: ChannelConfig, deps: ChannelDeps, events: ChannelEvents, stats: MessageStats) {
    this.#events = events;
    this.#metrics = deps.metrics;
    this.stats = stats;
    this.#admission = deps.admission;
    config = withChannelDefaults(config);
    this.config = config;
    this.channelInfo = this.#infoOf(config);
    this.invoker = deps.invoker;
    this.security = deps.security;
    this.logger = deps.logger.child({ channel: config.name });
    this.taps = deps.taps?.point(config.name) ?? new TapPoint(config.name);
    this.#wss = this.#createServer(config);
    this.#startSweep();
  }

  get name(): string {
    return this.config.name;
  }

  /** Connections open now (with or without a session). */
  get connectionCount(): number {
    return this.#clients.size;
  }

  /** Applies a changed config to this running channel; new limits apply to new connections. */
  updateConfig(config: ChannelConfig): void {
    config = withChannelDefaults(config);
    if (config.maxMessageSize !== this.config.maxMessageSize || config.compression !== this.config.compression) {
      this.#wss.close();
      this.#wss = this.#createServer(config);
    }
    const resweep =
      config.frameTimeout !== this.config.frameTimeout ||
      config.invokeTimeout !== this.config.invokeTimeout ||
      config.pingInterval !== this.config.pingInterval;
    this.config = config;
    this.channelInfo = this.#infoOf(config);
    if (resweep) this.#startSweep();
  }

  // One timer per channel, not one per frame, call or connection: each tick checks every client's deadlines and
  // pings (a few comparisons each), a quarter of the shortest period apart, so one is at most 25% late.
  #startSweep(): void {
    clearInterval(this.#sweepTimer);
    const { frameTimeout, invokeTimeout, pingInterval } = this.config;
    const shortest = Math.min(frameTimeout, invokeTimeout, pingInterval > 0 ? pingInterval : Infinity) * 1000;
    const interval = Math.max(20, Math.min(MAX_SWEEP_INTERVAL_MS, shortest / 4));
    this.#sweepTimer = setInterval(() => this.#sweep(), interval);
    this.#sweepTimer.unref();
  }

  #sweep(): void {
    const now = Date.now();
    this.#handshakes.prune(now, this.config.handshakeRate, this.config.handshakeBurst);
    for (const client of this.#clients.values()) {
      try {
        client.sweep(now);
        // A session authenticated by a JWT ends when the token does (a refresh moves expiresAt).
        const expiresAt = client.auth?.expiresAt;
        if (expiresAt !== undefined && now >= expiresAt && client.isOpen) this.#credentialsExpired(client);
      } catch (err) {
        this.logger.error({ err, pubClientId: client.pubClientId }, "Checking a client's deadlines failed");
      }
    }
  }

  #credentialsExpired(client: ChannelConnection): void {
    this.protocolError('token_expired');
    this.logger.info({ pubClientId: client.pubClientId }, 'Closing a client whose JWT expired');
    client.close(CLOSE_CODE.CREDENTIALS_EXPIRED, 'The token has expired');
  }

  /**
   * Takes over an HTTP upgrade request routed to this channel. Capacity refusals are all HTTP 503: the
   * channel is stopping, the server is over its memory guard, or the channel or the client's IP address has
   * its limit of connections (counted from this moment, before any await, until the socket closes).
   */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config } = this;
    if (!this.#accepting) return rejectUpgrade(socket, 'channel_stopping', 'The channel is stopping');
    if (this.#admission?.overloaded) {
      this.protocolError('server_overloaded');
      return rejectUpgrade(socket, 'server_overloaded', 'The server is low on memory; try again later', { 'Retry-After': '5' });
    }
    if (this.#handshakeRefused(req, socket)) return;
    const origin = req.headers.origin;
    if (config.allowedOrigins.length > 0 && (!origin || !config.allowedOrigins.includes(origin))) {
      return rejectUpgrade(socket, 'origin_not_allowed', 'This origin is not allowed');
    }
    const slot = this.#takeSlot(req, socket);
    if (!slot) return;
    // A plain channel has no session message, so its credentials come with the handshake.
    if (config.protocol === 'plain' && config.security) {
      const refused = await checkHandshake(req, this.security, config.security);
      if (refused) {
        slot.release();
        // Why is logged for the operator (never the credentials); the client learns no more than "refused".
        this.logger.debug({ reason: refused.reason, peer: req.socket.remoteAddress }, 'Handshake credentials refused');
        return rejectUpgrade(socket, 'invalid_credentials', 'Valid credentials are required', {
          'WWW-Authenticate': refused.challenge,
        });
      }
    }
    if (socket.destroyed || !this.#accepting) {
      slot.release();
      return rejectUpgrade(socket, 'channel_stopping', 'The channel is stopping');
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, socket, req));
  }

  // Before the origin check, the slots and any credentials: a refused handshake costs one map lookup.
  #handshakeRefused(req: IncomingMessage, socket: Duplex): boolean {
    const { handshakeRate, handshakeBurst } = this.config;
    if (handshakeRate === null) return false;
    const wait = this.#handshakes.take(clientIp(req.socket.remoteAddress), Date.now(), handshakeRate, handshakeBurst);
    if (wait === 0) return false;
    this.protocolError('handshake_rate_limited');
    const message = `This channel takes at most ${handshakeRate} handshakes per second from one address`;
    rejectUpgrade(socket, 'handshake_rate_limited', message, { 'Retry-After': String(wait) });
    return true;
  }

  // The slot is freed when the socket closes, whatever closed it (a refused or failed handshake included).
  #takeSlot(req: IncomingMessage, socket: Duplex): Slot | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.config;
    const ip = clientIp(req.socket.remoteAddress);
    const slot = this.#slots.take(ip, maxConnections, maxConnectionsPerIp);
    if (typeof slot === 'object') {
      (socket as SlotHolder)[kSlot] = slot;
      socket.on('close', releaseSlot);
      return slot;
    }
    this.protocolError(slot);
    this.logger.debug({ ip, code: slot }, 'Connection refused: limit reached');
    const message =
      slot === 'too_many_connections'
        ? `The channel accepts at most ${maxConnections} connections`
        : `The channel accepts at most ${maxConnectionsPerIp} connections from one address`;
    rejectUpgrade(socket, slot, message, { 'Retry-After': '5' });
    return undefined;
  }

  #accept(ws: WebSocket, socket: Duplex, req: IncomingMessage): void {
    const client =
      this.config.protocol === 'plain' ? new PlainConnection(ws, socket, req, this) : new ZatoConnection(ws, socket, req, this);
    this.#clients.set(client.pubClientId, client);
    this.logger.debug({ pubClientId: client.pubClientId, peer: client.peerAddress }, 'Client connected');
  }

  clientReady(client: ChannelConnection): void {
    this.#events.clientReady(client.info());
    this.#runHook('wsx_on_connected', client);
  }

  clientClosed(client: ChannelConnection): void {
    if (!this.#clients.delete(client.pubClientId)) return;
    if (this.taps.active) this.taps.clientClosed(client.pubClientId);
    if (client.hasSession) this.#runHook('wsx_on_disconnected', client);
    this.#events.clientClosed(this.name, client.pubClientId, client.hasSession);
  }

  protocolError(code: string): void {
    this.#metrics?.error(code);
  }

  unclaimedResponse(client: ChannelConnection, inReplyTo: string, response: unknown): void {
    this.#events.unclaimedResponse(this.name, client.pubClientId, inReplyTo, response);
  }

  /** A connected client as a push target (for pub/sub deliveries); 404 if it is gone. */
  pushTarget(pubClientId: string): PushTarget {
    return this.#client(pubClientId);
  }

  #runHook(hookType: 'wsx_on_connected' | 'wsx_on_disconnected', client: ChannelConnection): void {
    const hook = this.config.hookService;
    if (!hook) return;
    const claims = client.auth?.claims;
    const ctx = claims ? { hookType, ...client.info(), claims } : { hookType, ...client.info() };
    this.invoker.invoke(hook, { ctx }, { channel: this.channelInfo, client }).catch((err: unknown) => {
      this.logger.warn({ err, hook, hookType }, 'Channel hook service failed');
    });
  }

  /** Stops accepting connections and closes every client with `code`. */
  close(code: number = CLOSE_CODE.GOING_AWAY, reason = 'Channel stopped'): void {
    this.#accepting = false;
    clearInterval(this.#sweepTimer);
    for (const client of this.#clients.values()) client.close(code, reason);
    this.#wss.close();
  }

  /** Closes every client (e.g. after a security change) but keeps accepting new ones. */
  disconnectAll(code: number, reason: string): void {
    for (const client of this.#clients.values()) client.close(code, reason);
  }

  /** True when the client is connected to this server. */
  hasClient(pubClientId: string): boolean {
    return this.#clients.has(pubClientId);
  }

  clients(): WsxClientInfo[] {
    return [...this.#clients.values()].map((c) => c.info());
  }

  async broadcast(data: unknown): Promise<number> {
    let sent = 0;
    // Encoded once for every client (each zato frame still gets its own id).
    const payload = new PushPayload(data);
    for (const client of this.#clients.values()) {
      if (!client.hasSession) continue;
      await client.sendPayload(payload).then(
        () => sent++,
        () => undefined,
      );
    }
    return sent;
  }

  async invoke(pubClientId: string, data: unknown, options?: ClientInvokeOptions): Promise<unknown> {
    return this.#client(pubClientId).invoke(data, options);
  }

  async send(pubClientId: string, data: unknown): Promise<void> {
    return this.#client(pubClientId).send(data);
  }

  async disconnect(
    pubClientId: string,
    code: number = CLOSE_CODE.OPERATOR,
    reason = 'Disconnected by an operator',
  ): Promise<void> {
    this.#client(pubClientId).close(code, reason);
  }

  #client(pubClientId: string): ChannelConnection {
    const client = this.#clients.get(pubClientId);
    if (!client) throw new NotFoundError('client_not_found', `No client ${pubClientId} on channel ${this.name}`);
    return client;
  }

  #createServer(config: ChannelConfig): WebSocketServer {
    // Compression is off unless the channel asks: it costs memory per socket and CPU per message (compression.ts).
    return new WebSocketServer({
      noServer: true,
      maxPayload: config.maxMessageSize,
      perMessageDeflate: config.compression ? DEFLATE_OPTIONS : false,
      clientTracking: false,
      closeTimeout: CLOSE_TIMEOUT_MS,
    });
  }

  #infoOf(config: ChannelConfig): ChannelInfo {
    return { type: 'wsx', name: config.name, gatewayServices: config.gatewayServices };
  }
}
