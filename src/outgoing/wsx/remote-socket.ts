import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { ConnectionClosedError } from '../../errors/index.js';
import { CLOSE_CODE, CLOSE_TIMEOUT_MS, Heartbeat, decodePlain, parseServerFrame, type RemoteFrame, type WsxResponse } from '../../protocol/index.js';
import { backoffDelay } from './backoff.js';
import type { OutgoingConfig } from './config.js';
import { SendBufferFullError, clip } from './errors.js';
import { HookSlots } from './hook-slots.js';
import { RemoteDeliveries } from './remote-deliveries.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import { RemoteSubscriptions } from './remote-subscriptions.js';
import { NotConnectedError, type SocketLink, type SocketState, type SocketStats } from './socket-link.js';
import { ZatoSession, type RemoteCredentials } from './zato-session.js';

export { NotConnectedError, type SocketState, type SocketStats } from './socket-link.js';
export type { RemoteCredentials } from './zato-session.js';

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

/** Ignored frames are logged once, then at most once per this many ms with the count, so a flood is not a log flood. */
const BAD_FRAME_LOG_INTERVAL = 10_000;

const noop = (): void => undefined;

/**
 * One WebSocket to the remote, kept open: connects, pings, and reconnects with backoff after anything but a
 * deliberate `stop()`. On a Zato remote its `ZatoSession` creates the session and correlates requests, its
 * `RemoteDeliveries` hands pub/sub deliveries on, and the first socket of a pool holds `RemoteSubscriptions`.
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
  readonly #session: ZatoSession | undefined;
  readonly #deliveries: RemoteDeliveries | undefined;
  readonly #subscriptions: RemoteSubscriptions | undefined;
  readonly #hooks: HookSlots;
  readonly #heartbeat: Heartbeat;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = false;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #badFramesSinceLog = 0;
  #lastBadFrameLog = 0;

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
    const session = new ZatoSession(this.#link, options.credentials);
    this.#session = session;
    this.#deliveries = new RemoteDeliveries(this.#link, session, (message) => this.#events.message(this, message, false));
    // Socket 0 alone subscribes, so that a pool does not receive every message once per socket.
    if (options.index === 0) this.#subscriptions = new RemoteSubscriptions(this.#link, session, options.subKeys);
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.#session?.pendingCount ?? 0;
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
    // Our remote subscriptions outlive a connection drop on purpose; only a deletion ends them.
    if (ws && unsubscribe && ws.readyState === WebSocket.OPEN) this.#subscriptions?.unsubscribeAll(ws);
    this.#session?.end(new ConnectionClosedError(`Outgoing connection ${this.#config.name} was stopped`, 'connection_stopped'));
    // A remote that never answers the close handshake is cut off by ws after CLOSE_TIMEOUT_MS (closeTimeout).
    if (ws?.readyState === WebSocket.OPEN) ws.close(CLOSE_CODE.NORMAL, reason);
    else ws?.terminate();
    this.#setState('stopped');
  }

  /** Sends a message as is (plain remotes; objects are JSON-encoded); resolves once written. */
  async write(data: unknown): Promise<void> {
    const ws = this.#writableSocket();
    const frame = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    this.#stats.messagesOut++;
    return new Promise((resolve, reject) => {
      ws.send(frame, { binary: Buffer.isBuffer(frame) }, (err) => (err ? reject(new ConnectionClosedError(`Write to ${this.#config.name} failed: ${err.message}`)) : resolve()));
    });
  }

  /** Zato remotes: sends `invoke-service` and resolves with the reply; renews an expired session once, transparently. */
  async request(data: unknown): Promise<WsxResponse> {
    if (!this.#session) throw new NotConnectedError(this.#config.name, this.state);
    return this.#session.request(data);
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
      writable: () => this.#writableSocket(),
      sendOwn: (ws, frame) => this.#sendOwn(ws, frame),
      ignore: (reason) => this.#ignore(reason),
      setLastError: (text) => (this.lastError = text),
      whenConnected: (ms) => this.#whenConnected(ms),
      after: (ms, fn) => this.#after(ms, fn),
    };
  }

  /** Resolves true once the socket is connected (with a session) again, false if stopped or after `timeoutMs`. */
  #whenConnected(timeoutMs: number): Promise<boolean> {
    // 'connected' with a socket already closing (the close handshake is under way) is not connected yet.
    if (this.state === 'connected' && this.#ws?.readyState === WebSocket.OPEN) return Promise.resolve(true);
    if (this.state === 'stopped') return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('state', onState);
        resolve(ok);
      };
      const onState = (state: SocketState): void => {
        if (state === 'connected' || state === 'stopped') done(state === 'connected');
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.on('state', onState);
    });
  }

  /** The open socket, if what waits to be written to it is within `maxBufferedBytes` (a remote that does not read). */
  #writableSocket(): WebSocket {
    const ws = this.#ws;
    if (this.state !== 'connected' || !ws || ws.readyState !== WebSocket.OPEN) throw new NotConnectedError(this.#config.name, this.state);
    if (ws.bufferedAmount > this.#config.maxBufferedBytes) throw new SendBufferFullError(this.#config.name, ws.bufferedAmount, this.#config.maxBufferedBytes);
    return ws;
  }

  /** Our own frames (acknowledgements, answers): skipped, and counted, while the remote does not read. */
  #sendOwn(ws: WebSocket, frame: string): void {
    if (ws.bufferedAmount > this.#config.maxBufferedBytes) {
      this.#ignore(`not sent: ${ws.bufferedAmount} bytes are waiting to be written (the remote is not reading)`);
      return;
    }
    ws.send(frame);
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#setState(this.#everConnected || this.#attempt > 0 ? 'reconnecting' : 'connecting');
    this.nextAttemptAt = undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#config.address, {
        handshakeTimeout: this.#config.connectTimeout * 1000,
        maxPayload: this.#config.maxMessageSize,
        perMessageDeflate: false,
        followRedirects: false,
        // Pongs are sent by us, so that a ping flood from a remote that does not read cannot queue them without bound.
        autoPong: false,
        closeTimeout: CLOSE_TIMEOUT_MS,
      });
    } catch (err) {
      this.lastError = `Cannot open ${clip(this.#config.address)}: ${(err as Error).message}`;
      this.#afterFailure();
      return;
    }
    this.#ws = ws;
    this.#listen(ws);
  }

  #listen(ws: WebSocket): void {
    let opened = false;
    // `handshakeTimeout` is an idle timeout: a remote that sends its upgrade answer a byte at a time never trips it.
    let upgradeTimedOut = false;
    const upgradeDeadline = setTimeout(() => {
      if (ws.readyState !== WebSocket.CONNECTING) return;
      upgradeTimedOut = true;
      ws.terminate();
    }, this.#config.connectTimeout * 1000);
    upgradeDeadline.unref();
    ws.on('open', () => {
      opened = true;
      clearTimeout(upgradeDeadline);
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
      this.lastError = upgradeTimedOut ? `Opening handshake has timed out (no upgrade within ${this.#config.connectTimeout} s)` : clip(err.message);
      this.#log.debug({ err: this.lastError }, 'Outgoing socket error');
    });
    ws.on('close', (code, reason) => {
      clearTimeout(upgradeDeadline);
      this.#onClose(ws, opened, code, reason.toString());
    });
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
    if (this.#session && !(await this.#session.create())) {
      ws.terminate();
      return;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    this.#markConnected();
    void this.#subscriptions?.subscribe();
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
    if (!this.#session) {
      const decoded = decodePlain(buf, isBinary, this.#config.dataFormat);
      // A plain remote's message that is not the JSON it should be is handed on as the text it is.
      const message = decoded.ok ? decoded.value : decoded.text;
      this.#runHook(ws, () => this.#events.message(this, message, false).then(noop, noop));
      return;
    }
    if (isBinary) return this.#ignore('a binary frame (the WSX protocol is text)');
    const parsed = parseServerFrame(buf.toString('utf8'));
    if (!parsed.ok) return this.#ignore(parsed.reason);
    this.#onZatoFrame(ws, this.#session, parsed.frame);
  }

  #onZatoFrame(ws: WebSocket, session: ZatoSession, frame: RemoteFrame): void {
    switch (frame.kind) {
      case 'reply':
      case 'bad-reply':
        return session.onReply(frame);
      case 'error-message':
        return session.onErrorMessage(`Remote error: ${clip(frame.errorMessage ?? `status ${frame.status ?? 'none'}`)}`);
      case 'pubsub':
      case 'client-request':
        // Zato sends neither before the session exists; a remote that does is not answered.
        if (this.state !== 'connected') return this.#ignore(`a ${frame.kind === 'pubsub' ? 'zwsx.psrq' : 'zwsx.rqc'} before the session was created`);
        if (frame.kind === 'pubsub') this.#runHook(ws, this.#deliveries!.inOrder(ws, frame.id, frame.data));
        else this.#runHook(ws, () => session.answer(ws, frame.id, () => this.#events.message(this, frame.data, true)));
    }
  }

  /** Runs a MESSAGE hook call; when every slot is taken, reading pauses until one is free. */
  #runHook(ws: WebSocket, task: () => Promise<void>): void {
    if (!this.#hooks.run(task) && !ws.isPaused) ws.pause();
  }

  /** A frame (or send) left out: counted, and logged once per `BAD_FRAME_LOG_INTERVAL` with how many were. */
  #ignore(reason: string): void {
    this.#stats.badFrames++;
    this.#badFramesSinceLog++;
    const now = Date.now();
    if (now - this.#lastBadFrameLog < BAD_FRAME_LOG_INTERVAL) return;
    this.#log.warn({ reason: clip(reason), ignored: this.#badFramesSinceLog }, 'Ignored a frame from the remote, or a send to it (logged once per 10 s)');
    this.#lastBadFrameLog = now;
    this.#badFramesSinceLog = 0;
  }

  #onClose(ws: WebSocket, opened: boolean, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#heartbeat.stop();
    const wasConnected = this.state === 'connected';
    this.connectedSince = undefined;
    // ws reports its own aborts (oversized frame, bad frame) as 1006 and says why only in the error event.
    const why = [code, reason, this.lastError].filter(Boolean).join(': ');
    this.#session?.end(new ConnectionClosedError(`Outgoing connection ${this.#config.name} closed (${why}) before replying`));
    if (this.#stopped) return;
    if (opened && !this.lastError && code !== CLOSE_CODE.NORMAL) this.lastError = `Closed by the remote: ${code}${reason ? ` ${reason}` : ''}`;
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
