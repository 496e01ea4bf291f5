import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { ConnectionClosedError } from '../../errors/index.js';
import { CLOSE_CODE, Heartbeat, backoffDelay, decodePlain, type WsxResponse } from '../../protocol/index.js';
import type { OutgoingConfig } from './config.js';
import { clip } from './errors.js';
import { HookSlots } from './hook-slots.js';
import { IgnoredFrames } from './ignored-frames.js';
import { openRemote } from './open-remote.js';
import { untrustedCertificate } from './remote-tls.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import { sendOwn, writableSocket, writeAsIs } from './send-buffer.js';
import { NotConnectedError, type SocketLink, type SocketState, type SocketStats } from './socket-link.js';
import { whenConnected } from './when-connected.js';
import { ZatoRemote } from './zato-remote.js';
import type { RemoteCredentials } from './zato-session.js';

/** What a socket reports to its connection: events for the hook services. */
export interface SocketEvents {
  connected(socket: RemoteSocket): void;
  /** A message from the remote; for a Zato `zwsx.rqc` request, the resolved value is sent back as the response. */
  message(socket: RemoteSocket, data: unknown, isRequest: boolean): Promise<unknown>;
  closed(socket: RemoteSocket, code: number, reason: string): void;
}

/**
 * Missed pongs in a row after which an outgoing socket is taken for half-open and reconnected (the channels'
 * `pingsMissedThreshold` rule, with this fixed value: an outgoing connection has no setting for it).
 */
export const OUTGOING_PINGS_MISSED_THRESHOLD = 1;

const noop = (): void => undefined;

/**
 * One WebSocket to the remote, kept open: connects, pings, and reconnects with backoff after anything but a
 * deliberate `stop()`. On a Zato remote, its `ZatoRemote` speaks the WSX protocol (session, requests, pub/sub).
 * Emits `state` whenever `state` changes.
 */
export class RemoteSocket extends EventEmitter {
  readonly index: number;
  state: SocketState = 'connecting';
  lastError: string | undefined;
  connectedSince: Date | undefined;
  nextAttemptAt: Date | undefined;
  /** Reconnects since start (for metrics and tests). */
  reconnects = 0;

  readonly #config: OutgoingConfig;
  readonly #events: SocketEvents;
  readonly #log: Logger;
  readonly #stats: SocketStats;
  readonly #link: SocketLink;
  readonly #zato: ZatoRemote | undefined;
  readonly #hooks: HookSlots;
  readonly #heartbeat: Heartbeat;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #ignored: IgnoredFrames;

  constructor(options: {
    index: number;
    config: OutgoingConfig;
    stats: SocketStats;
    events: SocketEvents;
    credentials: () => Promise<RemoteCredentials | undefined>;
    logger: Logger;
    subKeys?: RemoteSubKeyStore | undefined;
  }) {
    super();
    const config = options.config;
    this.index = options.index;
    this.#stats = options.stats;
    this.#config = config;
    this.#events = options.events;
    this.#log = options.logger.child({ outgoing: config.name, socket: options.index });
    this.#ignored = new IgnoredFrames(options.stats, this.#log);
    this.#link = this.#makeLink();
    this.#hooks = new HookSlots(config.maxConcurrentMessages, {
      onError: (err) => this.#log.error({ err }, 'Handing a remote message to the MESSAGE hook failed'),
      onIdle: () => {
        if (this.#ws?.isPaused) this.#ws.resume();
      },
    });
    this.#heartbeat = new Heartbeat({
      intervalMs: config.pingInterval * 1000,
      missedThreshold: OUTGOING_PINGS_MISSED_THRESHOLD,
      ping: () => this.#ws?.ping(),
      dead: () => {
        this.lastError = 'The remote stopped answering pings';
        this.#ws?.terminate();
      },
      // While reading is paused for busy hooks the pong cannot be read: that is not a dead remote.
      isPaused: () => this.#ws?.isPaused === true,
    });
    if (!config.isZato) return;
    this.#zato = new ZatoRemote({
      link: this.#link,
      credentials: options.credentials,
      message: (data, isRequest) => this.#events.message(this, data, isRequest),
      runHook: (ws, task) => this.#runHook(ws, task),
      // Socket 0 alone subscribes, so that a pool does not receive every message once per socket.
      subscriptions: options.index === 0 ? { store: options.subKeys } : undefined,
    });
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.#zato?.session.pendingCount ?? 0;
  }

  /** Bytes waiting to be written to the remote (bounded by `maxBufferedBytes`). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /** MESSAGE hook calls running now (bounded by `maxConcurrentMessages`). */
  get hooksInFlight(): number {
    return this.#hooks.running;
  }

  /** Opens the connection (and keeps it open until `stop()`). */
  start(): void {
    this.#connect();
  }

  /**
   * Closes deliberately: no reconnect, no close hook; pending requests fail at once. With `unsubscribe`, the
   * subscriptions held on the remote end too (the connection was deleted); without it (a restart, a change of
   * settings) they stay, and the next connection resumes them.
   */
  stop(reason = 'Connection stopped', unsubscribe = true): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#heartbeat.stop();
    const ws = this.#ws;
    this.#ws = undefined;
    this.#zato?.stop(
      ws,
      unsubscribe,
      new ConnectionClosedError('connection_stopped', `Outgoing connection ${this.#config.name} was stopped`),
    );
    // A remote that never answers the close handshake is cut off by ws after CLOSE_TIMEOUT_MS (closeTimeout).
    if (ws?.readyState === WebSocket.OPEN) ws.close(CLOSE_CODE.NORMAL, reason);
    else ws?.terminate();
    this.#setState('stopped');
  }

  /** Sends a message as is (plain remotes; objects are JSON-encoded); resolves once written. */
  async write(data: unknown): Promise<void> {
    return writeAsIs(writableSocket(this.#ws, this.state, this.#config), data, this.#stats, this.#config.name);
  }

  /** Zato remotes: sends `invoke-service` and resolves with the reply; renews an expired session once, transparently. */
  async request(data: unknown): Promise<WsxResponse> {
    if (!this.#zato) throw new NotConnectedError(this.#config.name, this.state);
    return this.#zato.request(data);
  }

  // What the session, deliveries and subscriptions use of this socket.
  #makeLink(): SocketLink {
    return {
      config: this.#config,
      index: this.index,
      log: this.#log,
      stats: this.#stats,
      current: () => this.#ws,
      isCurrent: (ws) => ws === this.#ws && ws.readyState === WebSocket.OPEN,
      writable: () => writableSocket(this.#ws, this.state, this.#config),
      sendOwn: (ws, frame) => sendOwn(ws, frame, this.#config, this.#ignored),
      ignore: (reason) => this.#ignored.record(reason),
      setLastError: (text) => (this.lastError = text),
      whenConnected: (ms) => whenConnected(this, this.#ws?.readyState === WebSocket.OPEN, ms),
      after: (ms, fn) => this.#after(ms, fn),
    };
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#setState(this.#everConnected || this.#attempt > 0 ? 'reconnecting' : 'connecting');
    this.nextAttemptAt = undefined;
    let opening: ReturnType<typeof openRemote>;
    try {
      opening = openRemote(this.#config);
    } catch (err) {
      this.lastError = `Cannot open ${clip(this.#config.address)}: ${(err as Error).message}`;
      this.#afterFailure();
      return;
    }
    this.#ws = opening.ws;
    this.#listen(opening.ws, opening.upgradeTimedOut);
  }

  #listen(ws: WebSocket, upgradeTimedOut: () => boolean): void {
    let opened = false;
    ws.on('open', () => {
      opened = true;
      void this.#onOpen(ws).catch((err: unknown) => this.#onBug(ws, err));
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.#onMessage(ws, data, isBinary);
      } catch (err) {
        this.#onBug(ws, err);
      }
    });
    ws.on('ping', (data) => this.#onPing(ws, data));
    ws.on('pong', () => this.#heartbeat.onPong());
    ws.on('error', (err) => {
      const untrusted = untrustedCertificate(err, this.#config);
      this.lastError = upgradeTimedOut()
        ? `Opening handshake has timed out (no upgrade within ${this.#config.connectTimeout} s)`
        : clip((untrusted ?? err).message);
      if (untrusted) this.#log.warn({ err: untrusted }, 'Remote certificate not trusted');
      else this.#log.debug({ err: this.lastError }, 'Outgoing socket error');
    });
    ws.on('close', (code, reason) => this.#onClose(ws, opened, code, reason.toString()));
  }

  // The last line of defence: a bug in handling one frame drops that socket (it reconnects), never the process.
  #onBug(ws: WebSocket, err: unknown): void {
    this.#log.error({ err }, 'Handling the remote failed; reconnecting');
    this.lastError = `Internal error: ${clip(err instanceof Error ? err.message : 'unknown')}`;
    ws.terminate();
  }

  #onPing(ws: WebSocket, data: Buffer): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.#config.maxBufferedBytes) return;
    ws.pong(data);
  }

  #afterFailure(): void {
    if (this.#stopped) return;
    if (!this.#config.hasAutoReconnect) return this.#setState('stopped');
    this.#scheduleReconnect();
  }

  async #onOpen(ws: WebSocket): Promise<void> {
    if (ws !== this.#ws) return;
    if (this.#zato && !(await this.#zato.open())) {
      ws.terminate();
      return;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    this.#markConnected();
    this.#zato?.connected();
  }

  #markConnected(): void {
    this.#everConnected = true;
    this.connectedSince = new Date();
    this.lastError = undefined;
    this.#setState('connected');
    this.#heartbeat.start();
    // Only a connection that stays up for a while resets the backoff; one that drops at once keeps backing off.
    const since = this.connectedSince;
    this.#after(this.#config.reconnect.resetAfter * 1000, () => {
      if (this.state === 'connected' && this.connectedSince === since) this.#attempt = 0;
    });
    this.#events.connected(this);
  }

  #onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    this.#stats.messagesIn++;
    const buf = data as Buffer;
    if (!this.#zato) {
      const decoded = decodePlain(buf, isBinary, this.#config.dataFormat);
      // A plain remote's message that is not the JSON it should be is handed on as the text it is.
      const message = decoded.ok ? decoded.value : decoded.text;
      this.#runHook(ws, () => this.#events.message(this, message, false).then(noop, noop));
      return;
    }
    this.#zato.onMessage(ws, buf, isBinary, this.state === 'connected');
  }

  /** Runs a MESSAGE hook call; when every slot is taken, reading pauses until one is free. */
  #runHook(ws: WebSocket, task: () => Promise<void>): void {
    if (!this.#hooks.run(task) && !ws.isPaused) ws.pause();
  }

  #onClose(ws: WebSocket, opened: boolean, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#heartbeat.stop();
    const wasConnected = this.state === 'connected';
    this.connectedSince = undefined;
    // ws reports its own aborts (oversized frame, bad frame) as 1006 and says why only in the error event.
    const why = [code, reason, this.lastError].filter(Boolean).join(': ');
    this.#zato?.session.end(
      new ConnectionClosedError('connection_closed', `Outgoing connection ${this.#config.name} closed (${why}) before replying`),
    );
    if (this.#stopped) return;
    if (opened && !this.lastError && code !== CLOSE_CODE.NORMAL)
      this.lastError = `Closed by the remote: ${code}${reason ? ` ${reason}` : ''}`;
    if (wasConnected) this.#events.closed(this, code, reason);
    this.#afterFailure();
  }

  #scheduleReconnect(): void {
    const delay = backoffDelay(this.#attempt++, this.#config.reconnect);
    this.nextAttemptAt = new Date(Date.now() + delay);
    this.#setState('reconnecting');
    this.reconnects += 1;
    this.#stats.reconnects += 1;
    this.#log.debug({ delay, attempt: this.#attempt, lastError: this.lastError }, 'Reconnecting');
    this.#after(delay, () => this.#connect());
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #setState(state: SocketState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }
}
