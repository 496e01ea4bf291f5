import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import { ConnectionClosedError, SwitchboardError, TimeoutError, type SwitchboardErrorOptions } from '../../errors/index.js';
import { backoffCeiling, backoffDelay } from './backoff.js';
import type { OutgoingConfig } from './config.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import { ACTION, CLOSE_TIMEOUT_MS, newCid, timestamp, type WsxResponse } from '../../protocol/index.js';
import {
  MAX_REMOTE_ID_LENGTH,
  parseServerFrame,
  pubSubDeliveries,
  replyToResponse,
  sessionToken,
  type RemoteBadReply,
  type RemoteFrame,
  type RemoteReply,
} from '../../protocol/server-frame-parser.js';
import { InvalidReplyError, SendBufferFullError, clip } from './errors.js';

/** Where one socket of an outgoing connection is in its life. */
export type SocketState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** Credentials sent in `create-session` to a Zato-protocol remote. */
export interface RemoteCredentials {
  readonly username: string | undefined;
  readonly secret: string;
}

/** What a socket reports to its connection: events for the hook services. */
export interface SocketEvents {
  connected(socket: RemoteSocket): void;
  /** A message from the remote; for a Zato `zwsx.rqc` request, the resolved value is sent back as the response. */
  message(socket: RemoteSocket, data: unknown, isRequest: boolean): Promise<unknown>;
  closed(socket: RemoteSocket, code: number, reason: string): void;
}

interface Pending {
  resolve(response: WsxResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** Called synchronously when the reply is read (a promise callback would run only after later frames). */
  onReply: (() => void) | undefined;
}

/** Counters a socket adds to (plain numbers, read by the metrics at scrape time). */
export interface SocketStats {
  messagesIn: number;
  messagesOut: number;
  reconnects: number;
  /** Frames from the remote that were ignored as malformed (or sends skipped because the remote does not read). */
  badFrames: number;
}

/** Pub/sub message ids remembered per socket to recognise redeliveries. */
const SEEN_MSG_IDS = 10_000;

/** Subscriptions that may wait for a redelivery at once (a hostile remote could name any number of sub_keys). */
const MAX_WAITING_FOR_REDELIVERY = 1000;

/** Ignored frames are logged once, then at most once per this many ms with the count, so a flood is not a log flood. */
const BAD_FRAME_LOG_INTERVAL = 10_000;

const noop = (): void => undefined;

/** The remote is not connected (yet, or any more). */
export class NotConnectedError extends ConnectionClosedError {
  declare readonly code: 'not_connected';
  constructor(code: 'not_connected', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/**
 * One WebSocket to the remote, kept open: connects, creates a session on a Zato remote, correlates requests
 * with replies, pings, and reconnects with backoff after anything but a deliberate `stop()`.
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
  readonly #credentials: () => Promise<RemoteCredentials | undefined>;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  #ws: WebSocket | undefined;
  #token: string | undefined;
  #attempt = 0;
  #everConnected = false;
  #stopped = false;
  #timers = new Set<NodeJS.Timeout>();
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #sessionWaiter: { id: string; resolve(ok: boolean): void } | undefined;
  #sessionInFlight: Promise<boolean> | undefined;
  // topic → sub_key on the remote; kept across reconnects so the subscription is resumed, not recreated.
  readonly #remoteSubKeys = new Map<string, string>();
  readonly #seenMsgIds = new Set<string>();
  #hookFailures = 0;
  readonly #subKeyStore: RemoteSubKeyStore | undefined;
  #subKeysLoaded = false;
  // Subscriptions whose MESSAGE hook failed, until the remote has been asked to send their messages again.
  readonly #waitingForRedelivery = new Set<string>();
  // Deliveries are handed to the hook one frame at a time, in the order read: a frame read after one whose hook
  // then fails must not be handed on before that one comes again. `#pubSubFramesRead` numbers them as read;
  // `#resumedAt` holds, per sub_key, the number read when the remote answered the resume: frames up to it that
  // were still waiting their turn are left out, since the remote sends them again after that answer.
  #pubSubDeliveries: Promise<void> = Promise.resolve();
  #pubSubFramesRead = 0;
  readonly #resumedAt = new Map<string, number>();
  // MESSAGE hook calls running, and remote frames waiting for a free slot (reading is paused meanwhile).
  #inHooks = 0;
  readonly #hookQueue: Array<() => Promise<void>> = [];
  #badFramesSinceLog = 0;
  #lastBadFrameLog = 0;

  readonly #stats: SocketStats;

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
    this.index = options.index;
    this.#stats = options.stats;
    this.#config = options.config;
    this.#events = options.events;
    this.#credentials = options.credentials;
    this.#subKeyStore = options.subKeys;
    this.#log = options.logger.child({ outgoing: options.config.name, socket: options.index });
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Bytes waiting to be written to the remote (bounded by `maxBufferedBytes`). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /** MESSAGE hook calls running now (bounded by `maxConcurrentMessages`). */
  get hooksInFlight(): number {
    return this.#inHooks;
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
    this.#stopPings();
    this.#failPending(new ConnectionClosedError('connection_stopped', `Outgoing connection ${this.#config.name} was stopped`));
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) {
      // Our remote subscriptions outlive a connection drop on purpose; only a deletion ends them.
      if (unsubscribe && ws.readyState === WebSocket.OPEN) this.#unsubscribeRemote(ws);
      // A remote that never answers the close handshake is cut off by ws after CLOSE_TIMEOUT_MS (closeTimeout).
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, reason);
      else ws.terminate();
    }
    this.#setState('stopped');
  }

  /** Sends a message as is (plain remotes; objects are JSON-encoded); resolves once written. */
  async write(data: unknown): Promise<void> {
    const ws = this.#writableSocket();
    const frame = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
    this.#stats.messagesOut++;
    return new Promise((resolve, reject) => {
      ws.send(frame, { binary: Buffer.isBuffer(frame) }, (err) => (err ? reject(new ConnectionClosedError('connection_closed', `Write to ${this.#config.name} failed: ${err.message}`)) : resolve()));
    });
  }

  /** Zato remotes: sends `invoke-service` and resolves with the reply; renews an expired session once, transparently. */
  async request(data: unknown): Promise<WsxResponse> {
    const response = await this.#requestOnce(data);
    if (response.status !== 401 || !(response.code === 'token_expired' || response.code === 'invalid_token')) return response;
    this.#log.info({ code: response.code }, 'Session expired on the remote; creating a new one');
    if (await this.#createSession()) return this.#requestOnce(data);
    // Zato (and Switchboard since issue 10) close the socket after a bad-token error: the reconnect creates the
    // new session, so the call is retried once that is done.
    if (!(await this.#whenConnected(this.#config.responseTimeout * 1000))) return response;
    return this.#requestOnce(data);
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

  // Async so that every failure, "not connected" included, is a rejection: callers in timers and `void` chains
  // must never see a synchronous throw.
  async #requestOnce(data: unknown, onReply?: () => void): Promise<WsxResponse> {
    const ws = this.#writableSocket();
    if (this.#pending.size >= this.#config.maxPendingRequests) {
      throw new SwitchboardError('too_many_pending', `Outgoing connection ${this.#config.name} has ${this.#pending.size} requests waiting for replies`);
    }
    const id = `zwsxc.inv.${newCid()}`;
    const frame = JSON.stringify({ meta: { action: ACTION.INVOKE_SERVICE, id, timestamp: timestamp(), token: this.#token }, data });
    const timeoutMs = this.#config.responseTimeout * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError('response_timeout', `No reply from ${this.#config.name} within ${this.#config.responseTimeout} s`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, onReply });
      this.#stats.messagesOut++;
      ws.send(frame);
    });
  }

  /** The open socket, if what waits to be written to it is within `maxBufferedBytes` (a remote that does not read). */
  #writableSocket(): WebSocket {
    const ws = this.#ws;
    if (this.state !== 'connected' || !ws || ws.readyState !== WebSocket.OPEN) throw new NotConnectedError('not_connected', `Outgoing connection ${this.#config.name} is not connected (${this.state})`);
    if (ws.bufferedAmount > this.#config.maxBufferedBytes) throw new SendBufferFullError('send_buffer_full', `Outgoing connection ${this.#config.name}: ${ws.bufferedAmount} bytes are waiting to be written (the remote is not reading; limit ${this.#config.maxBufferedBytes})`);
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
    ws.on('pong', () => {
      this.#awaitingPong = false;
    });
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
    if (this.#config.isZato && !(await this.#createSession())) {
      ws.terminate();
      return;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    this.#markConnected();
    if (this.#config.isZato) void this.#subscribeRemote();
  }

  /**
   * Subscribes to `subscriptionList` on the remote (socket 0 only, so a pool does not receive every message
   * once per socket), resuming the subscriptions it already had so that nothing published meanwhile is missed.
   */
  async #subscribeRemote(): Promise<void> {
    if (this.index !== 0) return;
    await this.#loadSubKeys();
    const wanted = this.#config.subscriptionList;
    for (const topic of wanted) {
      try {
        const known = this.#remoteSubKeys.get(topic);
        if (known && (await this.#requestOnce({ service: 'zato.pubsub.resume-wsx-subscription', request: { sub_key: known } })).isOk) continue;
        const reply = await this.#requestOnce({
          service: 'zato.pubsub.subscription.create-wsx-subscription',
          request: { topic_name: topic, unsub_on_wsx_close: false, ack_mode: 'client' },
        });
        const subKey = (reply.data as { sub_key?: unknown } | null | undefined)?.sub_key;
        if (reply.isOk && typeof subKey === 'string' && subKey.length > 0 && subKey.length <= MAX_REMOTE_ID_LENGTH) this.#remoteSubKeys.set(topic, subKey);
        else this.lastError = `Subscribing to ${topic} failed: ${reply.isOk ? 'the reply has no usable sub_key' : clip(reply.errorMessage ?? String(reply.status))}`;
      } catch (err) {
        this.lastError = `Subscribing to ${topic} failed: ${clip((err as Error).message)}`;
      }
    }
    // Topics taken off the list since the sub_keys were stored are unsubscribed on the remote.
    for (const [topic, subKey] of this.#remoteSubKeys) {
      if (wanted.includes(topic)) continue;
      this.#requestOnce({ service: 'zato.pubsub.pubapi.unsubscribe', request: { sub_key: subKey } }).catch(() => undefined);
      this.#remoteSubKeys.delete(topic);
    }
    await this.#saveSubKeys();
  }

  async #loadSubKeys(): Promise<void> {
    if (this.#subKeysLoaded || !this.#subKeyStore) return;
    try {
      for (const [topic, subKey] of Object.entries(await this.#subKeyStore.load())) {
        if (typeof subKey === 'string' && !this.#remoteSubKeys.has(topic)) this.#remoteSubKeys.set(topic, subKey);
      }
      this.#subKeysLoaded = true;
    } catch (err) {
      this.#log.error({ err }, 'Reading the stored remote sub_keys failed; subscribing anew');
    }
  }

  async #saveSubKeys(): Promise<void> {
    try {
      await this.#subKeyStore?.save(Object.fromEntries(this.#remoteSubKeys));
    } catch (err) {
      this.#log.error({ err }, 'Storing the remote sub_keys failed; after a restart they are subscribed anew');
    }
  }

  // Every message of a delivery goes to the MESSAGE hook once, in order; then the whole frame is acknowledged.
  // A redelivery (our acknowledgement was lost with the connection) is acknowledged again but not handed on twice.
  // A hook that fails stops the frame there, unacknowledged, and the subscription waits: what arrives for it
  // meanwhile is not handed on (nor acknowledged) until a resume makes the remote send everything unacknowledged
  // again, from the failed message on — so nothing is dropped and order is kept.
  // Messages whose msg_id or sub_key is mistyped are logged and left out (and acknowledged with the frame).
  async #deliverPubSub(ws: WebSocket, id: string, data: unknown, readAs: number): Promise<void> {
    const { messages, refused } = pubSubDeliveries(data);
    for (const reason of refused) this.#ignore(`a zwsx.psrq message: ${reason}`);
    for (const { message, msgId, subKey } of messages) {
      if (subKey !== undefined && (this.#waitingForRedelivery.has(subKey) || readAs <= (this.#resumedAt.get(subKey) ?? 0))) return;
      if (msgId !== undefined && !this.#rememberDelivery(msgId)) continue;
      try {
        await this.#events.message(this, message, false);
        this.#hookFailures = 0;
      } catch (err) {
        if (msgId !== undefined) this.#seenMsgIds.delete(msgId);
        this.lastError = `The MESSAGE hook failed on ${clip(msgId ?? 'a message without msg_id')}; left unacknowledged for redelivery: ${clip(err instanceof Error ? err.message : 'unknown error')}`;
        if (subKey !== undefined) this.#redeliverLater(subKey);
        return;
      }
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    this.#sendOwn(
      ws,
      JSON.stringify({
        meta: { action: ACTION.CLIENT_RESPONSE, id: `zwsxc.rsp.${newCid()}`, timestamp: timestamp(), token: this.#token, in_reply_to: id },
        data: { response: null },
      }),
    );
  }

  // Resuming a subscription makes a Switchboard remote send its unacknowledged messages again; the wait grows
  // with each failure in a row, like reconnects do.
  #redeliverLater(subKey: string): void {
    if (this.#waitingForRedelivery.has(subKey) || this.#waitingForRedelivery.size >= MAX_WAITING_FOR_REDELIVERY) return;
    this.#waitingForRedelivery.add(subKey);
    const delay = backoffCeiling(this.#hookFailures++, this.#config.reconnect);
    this.#after(delay, () => {
      // Frames sent before the remote took the resume arrive before its reply; the replay comes after it.
      // The flag is cleared the moment the reply is read, before the frames that follow it are looked at.
      const onReply = (): void => {
        this.#waitingForRedelivery.delete(subKey);
        this.#resumedAt.set(subKey, this.#pubSubFramesRead);
      };
      this.#requestOnce({ service: 'zato.pubsub.resume-wsx-subscription', request: { sub_key: subKey } }, onReply)
        .catch(() => undefined)
        .finally(() => this.#waitingForRedelivery.delete(subKey));
    });
  }

  /** Sends `create-session` and waits for `zwsx.rspa`; false (with `lastError`) when refused or unanswered. */
  // One session request at a time: requests that all hear `token_expired` share it (a second waiter would
  // replace the first, whose caller would then wait for ever).
  #createSession(): Promise<boolean> {
    this.#sessionInFlight ??= this.#requestSession().finally(() => (this.#sessionInFlight = undefined));
    return this.#sessionInFlight;
  }

  async #requestSession(): Promise<boolean> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    let credentials: RemoteCredentials | undefined;
    try {
      credentials = await this.#credentials();
    } catch (err) {
      this.lastError = `Cannot read credentials: ${clip(err instanceof Error ? err.message : 'unknown error')}`;
      return false;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return false;
    const id = `zwsxc.auth.${newCid()}`;
    // A stable client_id lets this connection resume its remote subscriptions from a new socket.
    const meta: Record<string, unknown> = {
      action: ACTION.CREATE_SESSION,
      id,
      timestamp: timestamp(),
      client_id: `switchboard.${this.#config.name}.${this.index}`,
      client_name: `switchboard:${this.#config.name}`,
    };
    if (credentials) Object.assign(meta, { username: credentials.username, secret: credentials.secret });
    const answered = new Promise<boolean>((resolve) => {
      this.#sessionWaiter = { id, resolve };
      this.#after(this.#config.connectTimeout * 1000, () => {
        if (this.#sessionWaiter?.id !== id) return;
        this.#sessionWaiter = undefined;
        this.lastError = `No session reply within ${this.#config.connectTimeout} s`;
        resolve(false);
      });
    });
    ws.send(JSON.stringify({ meta, data: {} }));
    return answered;
  }

  #markConnected(): void {
    this.#everConnected = true;
    this.connectedSince = new Date();
    this.lastError = undefined;
    this.#setState('connected');
    this.#startPings();
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
    if (!this.#config.isZato) {
      const message = this.#decodePlain(buf, isBinary);
      this.#runHook(ws, () => this.#events.message(this, message, false).then(noop, noop));
      return;
    }
    if (isBinary) return this.#ignore('a binary frame (the WSX protocol is text)');
    const parsed = parseServerFrame(buf.toString('utf8'));
    if (!parsed.ok) return this.#ignore(parsed.reason);
    this.#onZatoFrame(ws, parsed.frame);
  }

  #onZatoFrame(ws: WebSocket, frame: RemoteFrame): void {
    switch (frame.kind) {
      case 'reply':
      case 'bad-reply':
        return this.#onReply(frame);
      case 'error-message':
        this.lastError = `Remote error: ${clip(frame.errorMessage ?? `status ${frame.status ?? 'none'}`)}`;
        if (this.#sessionWaiter) this.#endSessionWait(undefined, this.lastError);
        return;
      case 'pubsub':
      case 'client-request':
        // Zato sends neither before the session exists; a remote that does is not answered.
        if (this.state !== 'connected') return this.#ignore(`a ${frame.kind === 'pubsub' ? 'zwsx.psrq' : 'zwsx.rqc'} before the session was created`);
        if (frame.kind === 'pubsub') this.#runHook(ws, this.#inDeliveryOrder(ws, frame.id, frame.data));
        else this.#runHook(ws, () => this.#answer(ws, frame.id, frame.data));
    }
  }

  #onReply(frame: RemoteReply | RemoteBadReply): void {
    if (this.#sessionWaiter?.id === frame.inReplyTo) return this.#onSessionReply(frame);
    const pending = this.#pending.get(frame.inReplyTo);
    if (!pending) {
      // A late reply after our timeout, a reply to a request sent without waiting, or a duplicate.
      this.#log.debug({ inReplyTo: clip(frame.inReplyTo, 100) }, 'A reply to no pending request; ignored');
      return;
    }
    this.#pending.delete(frame.inReplyTo);
    clearTimeout(pending.timer);
    pending.onReply?.();
    if (frame.kind === 'bad-reply') {
      this.#ignore(`a reply: ${frame.reason}`);
      pending.reject(new InvalidReplyError('invalid_reply', `Outgoing connection ${this.#config.name}: the remote's reply was malformed (${frame.reason})`));
      return;
    }
    pending.resolve(replyToResponse(frame));
  }

  #onSessionReply(frame: RemoteReply | RemoteBadReply): void {
    const result = frame.kind === 'bad-reply' ? { error: frame.reason } : sessionToken(frame);
    if ('token' in result) return this.#endSessionWait(result.token);
    this.#endSessionWait(undefined, `Session refused by the remote: ${clip(result.error)}`);
  }

  /** Ends the wait for `zwsx.rspa`: with a token, or with the reason it was refused (then `lastError`). */
  #endSessionWait(token: string | undefined, refusal?: string): void {
    const waiter = this.#sessionWaiter;
    if (!waiter) return;
    this.#sessionWaiter = undefined;
    if (token !== undefined) {
      this.#token = token;
      waiter.resolve(true);
      return;
    }
    if (refusal !== undefined) this.lastError = refusal;
    waiter.resolve(false);
  }

  /** The delivery of a `zwsx.psrq` frame, as a task that starts once the frames read before it are done. */
  #inDeliveryOrder(ws: WebSocket, id: string, data: unknown): () => Promise<void> {
    const readAs = ++this.#pubSubFramesRead;
    return () => {
      const run = this.#pubSubDeliveries.then(() => this.#deliverPubSub(ws, id, data, readAs));
      this.#pubSubDeliveries = run.catch(() => undefined);
      return run;
    };
  }

  /**
   * Runs a MESSAGE hook call for a remote frame, at most `maxConcurrentMessages` at a time per socket. When all
   * slots are taken, frames already read wait in order and the socket stops reading, so a flood is pushed back
   * to the remote over TCP instead of piling up here.
   */
  #runHook(ws: WebSocket, task: () => Promise<void>): void {
    if (this.#inHooks >= this.#config.maxConcurrentMessages) {
      this.#hookQueue.push(task);
      if (!ws.isPaused) ws.pause();
      return;
    }
    this.#startHook(task);
  }

  #startHook(task: () => Promise<void>): void {
    this.#inHooks++;
    Promise.resolve()
      .then(task)
      .catch((err: unknown) => this.#log.error({ err }, 'Handing a remote message to the MESSAGE hook failed'))
      .finally(() => this.#hookDone());
  }

  // Frames read before a reconnect still go to the hook (a new socket does not wait for them to finish).
  #hookDone(): void {
    this.#inHooks--;
    const next = this.#hookQueue.shift();
    if (next) return this.#startHook(next);
    if (this.#ws?.isPaused) this.#ws.resume();
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

  // A server → client request: the MESSAGE hook's result goes back as the client-response.
  async #answer(ws: WebSocket, id: string, data: unknown): Promise<void> {
    let response: unknown;
    try {
      response = await this.#events.message(this, data, true);
    } catch {
      response = null;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    const meta = { action: ACTION.CLIENT_RESPONSE, id: `zwsxc.rsp.${newCid()}`, timestamp: timestamp(), token: this.#token, in_reply_to: id };
    let frame: string;
    try {
      frame = JSON.stringify({ meta, data: { response: response ?? null } });
    } catch (err) {
      // A hook that returns what JSON cannot hold (a cycle, a BigInt, the remote's own 100k-deep data).
      this.#log.warn({ err, service: this.#config.onMessageService }, 'The MESSAGE hook returned a value that is not JSON; answering null');
      frame = JSON.stringify({ meta, data: { response: null } });
    }
    this.#sendOwn(ws, frame);
  }

  #decodePlain(buf: Buffer, isBinary: boolean): unknown {
    if (this.#config.dataFormat !== 'json') return isBinary ? buf : buf.toString('utf8');
    const text = buf.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  #onClose(ws: WebSocket, opened: boolean, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    this.#token = undefined;
    this.#stopPings();
    this.#endSessionWait(undefined);
    const wasConnected = this.state === 'connected';
    this.connectedSince = undefined;
    // ws reports its own aborts (oversized frame, bad frame) as 1006 and says why only in the error event.
    const why = [code, reason, this.lastError].filter(Boolean).join(': ');
    this.#failPending(new ConnectionClosedError('connection_closed', `Outgoing connection ${this.#config.name} closed (${why}) before replying`));
    if (this.#stopped) return;
    if (opened && !this.lastError && code !== 1000) this.lastError = `Closed by the remote: ${code}${reason ? ` ${reason}` : ''}`;
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

  /** Records a delivered message id; false if it was already seen (bounded: the oldest ids are forgotten). */
  #rememberDelivery(msgId: string): boolean {
    if (this.#seenMsgIds.has(msgId)) return false;
    this.#seenMsgIds.add(msgId);
    if (this.#seenMsgIds.size > SEEN_MSG_IDS) this.#seenMsgIds.delete(this.#seenMsgIds.values().next().value as string);
    return true;
  }

  #unsubscribeRemote(ws: WebSocket): void {
    for (const subKey of this.#remoteSubKeys.values()) {
      const meta = { action: ACTION.INVOKE_SERVICE, id: `zwsxc.inv.${newCid()}`, timestamp: timestamp(), token: this.#token };
      ws.send(JSON.stringify({ meta, data: { service: 'zato.pubsub.pubapi.unsubscribe', request: { sub_key: subKey } } }));
    }
    this.#remoteSubKeys.clear();
    void this.#saveSubKeys();
  }

  #startPings(): void {
    const interval = this.#config.pingInterval * 1000;
    if (interval <= 0) return;
    this.#awaitingPong = false;
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      // While reading is paused for busy hooks the pong cannot be read: that is not a dead remote.
      if (ws.isPaused) {
        this.#awaitingPong = false;
        return;
      }
      // A pong missing for a whole interval means a half-open connection: drop it and reconnect.
      if (this.#awaitingPong) {
        this.lastError = 'The remote stopped answering pings';
        ws.terminate();
        return;
      }
      this.#awaitingPong = true;
      ws.ping();
    }, interval);
    this.#pingTimer.unref();
  }

  #stopPings(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #failPending(err: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(err);
    }
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
