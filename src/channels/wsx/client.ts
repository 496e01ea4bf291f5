import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { ConnectionClosedError, SwitchboardError, TimeoutError, TooManyRequestsError, toSwitchboardError } from '../../errors/index.js';
import { CLOSE_CODE, newCid, pingPayload } from '../../protocol/index.js';
import { GATEWAY_SERVICE, resolveGatewayCall, type ClientInvokeOptions, type ServiceInvoker, type WsxClientInfo, type CallingClient, type ChannelInfo } from '../../services/index.js';
import type { SecurityDefinitions } from '../../security/index.js';
import type { ChannelConfig } from './config.js';
import { CorkedWriter } from './corked-writer.js';

/** A connection the server pushes frames to (pub/sub deliveries), with its backlog for flow control. */
export interface PushTarget {
  readonly pubClientId: string;
  readonly isOpen: boolean;
  /** Bytes written but not yet on the wire. */
  readonly queuedBytes: number;
  /** The largest frame the channel takes (`maxMessageSize`); pub/sub never pushes a bigger one. */
  readonly maxMessageSize: number;
  /** The security definition that authenticated this client (the channel's), or null on an open channel. */
  readonly securityName: string | null;
  /** Writes one text frame (given as text or as its UTF-8 bytes); false when the connection is closed. */
  push(frame: string | Buffer): boolean;
  /** Calls `callback` once the backlog has drained. */
  onDrain(callback: () => void): void;
  close(code: number, reason: string): void;
}

/** What a client needs from the channel that accepted it. */
export interface ClientHost {
  readonly config: ChannelConfig;
  readonly channelInfo: ChannelInfo;
  readonly invoker: ServiceInvoker;
  readonly security: SecurityDefinitions;
  readonly logger: Logger;
  /** The client is fully connected (zato: has a session; plain: open). */
  clientReady(client: WsxClient): void;
  /** The client's connection is gone. */
  clientClosed(client: WsxClient): void;
  /** A `client-response` that answers no pending request of ours (e.g. a pub/sub acknowledgement). */
  unclaimedResponse(client: WsxClient, inReplyTo: string, response: unknown): void;
  /** Message totals of the channel (for metrics). */
  readonly stats: MessageStats;
  /** Counts an error answered at the protocol level, by its stable code (for metrics). */
  protocolError(code: string): void;
}

/** Messages a channel or connection received and sent (plain counters, read by the metrics at scrape time). */
export interface MessageStats {
  messagesIn: number;
  messagesOut: number;
}

interface PendingRequest {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A service call of this client that has not answered yet. */
interface InFlightCall {
  readonly startedAt: number;
  readonly done: (err: SwitchboardError | undefined, payload?: unknown) => void;
}

/** What `ws` keeps of a message still being received (private fields: `ws` has no public API for this). */
interface ReceiverState {
  readonly _bufferedBytes?: number;
  readonly _fragmented?: number;
}

const DEFAULT_INVOKE_TIMEOUT_MS = 5000;
/** Bytes queued for one client before we stop reading its requests until the socket drains. */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;
/**
 * Bytes already queued for one client past which it is cut off when one more frame is to be written (or four of
 * its largest messages, if more): replies and pub/sub deliveries stop at their high-water marks, but pushes from
 * services (send, broadcast) do not wait. Measured before the write, so one large frame always goes out.
 */
const MAX_WRITE_BUFFER = 16 * 1024 * 1024;
/** Server → client requests awaiting a reply, per client; more is refused rather than growing without bound. */
const MAX_PENDING_REQUESTS = 10_000;
const MAX_CLOSE_REASON_BYTES = 123;

/** RFC 6455 allows 123 bytes of close reason; `ws` throws on more. Cut at a character boundary. */
function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}

let warnedNoReceiver = false;

// The `ws` receiver, to see whether a message is half received; if a `ws` upgrade renames it, `frameTimeout`
// stops working, which is said once rather than failing connections.
function receiverOf(ws: WebSocket, log: Logger): ReceiverState | undefined {
  const receiver = (ws as unknown as { _receiver?: ReceiverState })._receiver;
  if (receiver && typeof receiver._bufferedBytes === 'number') return receiver;
  if (!warnedNoReceiver) log.warn('The ws receiver is not readable: frameTimeout is not enforced');
  warnedNoReceiver = true;
  return undefined;
}

function peerAddressOf(req: IncomingMessage): string {
  const s = req.socket;
  return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort ?? 0}` : 'unknown';
}

/**
 * One connected WebSocket client. Owns the socket's lifetime: pings, the close, backpressure, batching of
 * writes, and server → client requests. The protocol (zato or plain) lives in the subclasses.
 */
export abstract class WsxClient implements CallingClient, PushTarget {
  readonly pubClientId = `ws.${newCid()}`;
  readonly peerAddress: string;
  readonly connectedAt = new Date();
  lastSeen = Date.now();
  extClientId: string | undefined;
  extClientName: string | undefined;

  protected readonly ws: WebSocket;
  protected readonly host: ClientHost;
  protected readonly log: Logger;
  readonly #socket: Duplex;
  readonly #writer: CorkedWriter;
  readonly #pending = new Map<string, PendingRequest>();
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #pingsMissed = 0;
  #readPaused = false;
  #ready = false;
  #closed = false;
  // When the first byte of a message still incomplete arrived (0: none is), checked by the channel's sweep.
  #partialSince = 0;
  readonly #receiver: ReceiverState | undefined;
  // Insertion order is start order, and every call of a connection has the same timeout: the oldest expire first.
  readonly #calls = new Map<number, InFlightCall>();
  #nextCall = 0;

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ClientHost) {
    this.ws = ws;
    this.host = host;
    this.#socket = socket;
    this.#writer = new CorkedWriter(socket);
    this.peerAddress = peerAddressOf(req);
    this.log = host.logger.child({ pubClientId: this.pubClientId });
    this.#receiver = receiverOf(ws, this.log);
    // After ws's own 'data' listener (added at the upgrade), so the receiver has parsed this chunk already.
    socket.on('data', this.#onData);
    ws.on('message', (data, isBinary) => {
      this.#partialSince = 0;
      this.lastSeen = Date.now();
      host.stats.messagesIn++;
      // Whatever a frame contains, nothing may escape the listener: `ws` would rethrow it and end the process.
      try {
        this.onMessage(data as Buffer, isBinary);
      } catch (err) {
        this.failed(err);
      }
    });
    ws.on('pong', () => this.#onPong());
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    // `ws` closes the connection itself on protocol errors (1002, 1007, 1009); without a listener they would crash us.
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'WebSocket error'));
  }

  // One timestamp when a message starts and stays incomplete after a read: no timer per frame.
  readonly #onData = (): void => {
    const receiver = this.#receiver;
    if (!receiver) return;
    const partial = (receiver._bufferedBytes ?? 0) > 0 || (receiver._fragmented ?? 0) !== 0;
    if (!partial) this.#partialSince = 0;
    else if (this.#partialSince === 0) this.#partialSince = Date.now();
  };

  /**
   * @internal Called by the channel's sweep timer: closes a connection whose message has not completed within
   * `frameTimeout` (1008), and answers calls running longer than `invokeTimeout` with 504 `timeout`.
   */
  sweep(now: number): void {
    if (this.#closed) return;
    const { frameTimeout, invokeTimeout } = this.host.config;
    // While we do not read (backpressure), an incomplete message is our doing, not the client's.
    if (this.#partialSince !== 0 && !this.#readPaused && now - this.#partialSince > frameTimeout * 1000) {
      this.#partialSince = 0;
      this.host.protocolError('frame_timeout');
      this.log.info({ frameTimeout }, 'Closing a client whose message did not complete in time');
      this.close(CLOSE_CODE.POLICY, 'Message not completed in time');
      return;
    }
    const limit = invokeTimeout * 1000;
    for (const [key, call] of this.#calls) {
      if (now - call.startedAt < limit) break;
      this.#calls.delete(key);
      call.done(new TimeoutError('timeout', `The service did not answer within ${invokeTimeout} s`));
    }
  }

  /** Service calls of this connection still running. */
  protected get callsInFlight(): number {
    return this.#calls.size;
  }

  /** The refusal of a call over `maxInFlight` (counted in the metrics). */
  protected tooManyRequests(): TooManyRequestsError {
    this.host.protocolError('too_many_requests');
    const max = this.host.config.maxInFlight;
    return new TooManyRequestsError('too_many_requests', `At most ${max} calls may be in flight on one connection; wait for an answer`);
  }

  /**
   * Runs a service call under the channel's `invokeTimeout`; `done` is called once: with the payload, with the
   * service's error, or with 504 `timeout` if it has not settled by then (the service itself runs on; its late
   * answer is dropped), and the call's slot is freed.
   */
  // A callback, not a wrapping promise: the answer leaves in the same turn as it did without a timeout, which
  // peers rely on (a pub/sub resume's reply goes out before the replay it starts).
  protected callService(request: unknown, cid: string, done: (err: SwitchboardError | undefined, payload?: unknown) => void): void {
    const key = this.#nextCall++;
    // The message's arrival time (set just before) is the call's start: no second clock read, no closure per call.
    this.#calls.set(key, { startedAt: this.lastSeen, done });
    this.invokeService(request, cid).then(
      (payload) => {
        if (this.#calls.delete(key)) done(undefined, payload);
      },
      (err: unknown) => {
        if (this.#calls.delete(key)) done(toSwitchboardError(err));
      },
    );
  }

  abstract readonly protocol: 'zato' | 'plain';
  abstract readonly hasSession: boolean;

  /** Handles one received message. */
  protected abstract onMessage(data: Buffer, isBinary: boolean): void;

  /** Encodes a message the server pushes (send, broadcast) in this protocol. */
  protected abstract encodePush(data: unknown): string | Buffer;

  /** Encodes a server → client request; protocols without correlation return undefined. */
  protected abstract encodeRequest(id: string, data: unknown): string | undefined;

  /** The pub/sub-independent public view of this client. */
  info(): WsxClientInfo {
    return {
      pubClientId: this.pubClientId,
      channelName: this.host.config.name,
      extClientId: this.extClientId,
      extClientName: this.extClientName,
      peerAddress: this.peerAddress,
      connectedAt: this.connectedAt.toISOString(),
      lastSeen: new Date(this.lastSeen).toISOString(),
      protocol: this.protocol,
      hasSession: this.hasSession,
    };
  }

  get isOpen(): boolean {
    return !this.#closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Writes one frame; false when the connection is no longer open. */
  protected write(frame: string | Buffer, binary = typeof frame !== 'string'): boolean {
    if (!this.isOpen) return false;
    const backlog = this.#socket.writableLength;
    if (backlog > Math.max(MAX_WRITE_BUFFER, 4 * this.host.config.maxMessageSize)) {
      this.#cutOff(backlog);
      return false;
    }
    this.#writer.cork();
    this.ws.send(frame, { binary });
    this.host.stats.messagesOut++;
    if (!this.#readPaused && this.#socket.writableLength > WRITE_HIGH_WATER) this.#pauseReading();
    return true;
  }

  // A client that does not read what is sent to it would make the server hold it all: it is dropped, at
  // once (a close frame would queue behind the backlog).
  #cutOff(queued: number): void {
    this.host.protocolError('client_not_reading');
    this.log.warn({ queuedBytes: queued }, 'Dropping a client that does not read what is sent to it');
    this.ws.terminate();
  }

  // A client that sends faster than it reads our replies is not read from until its replies drain,
  // so its backlog lives in its TCP window, not in our memory.
  #pauseReading(): void {
    this.#readPaused = true;
    this.ws.pause();
    this.#socket.once('drain', () => {
      this.#readPaused = false;
      // The read deadline of a message we stopped reading starts again.
      if (this.#partialSince !== 0) this.#partialSince = Date.now();
      if (this.isOpen) this.ws.resume();
    });
  }

  get queuedBytes(): number {
    return this.ws.bufferedAmount;
  }

  get maxMessageSize(): number {
    return this.host.config.maxMessageSize;
  }

  get securityName(): string | null {
    return this.host.config.security ?? null;
  }

  push(frame: string | Buffer): boolean {
    return this.write(frame, false);
  }

  onDrain(callback: () => void): void {
    if (this.queuedBytes === 0) return void setImmediate(callback);
    this.#socket.once('drain', callback);
  }

  /** Sends a message to this client (no response expected). */
  async send(data: unknown): Promise<void> {
    if (!this.write(this.encodePush(data))) throw new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} is not connected`);
  }

  /** Sends a request and resolves with the client's response (its `data.response`). */
  invoke(data: unknown, options: ClientInvokeOptions = {}): Promise<unknown> {
    const id = newCid();
    const frame = this.encodeRequest(id, data);
    if (frame === undefined) {
      return Promise.reject(new SwitchboardError('not_supported', 'Plain-protocol clients cannot answer requests; use send()'));
    }
    if (this.#pending.size >= MAX_PENDING_REQUESTS) {
      return Promise.reject(new ConnectionClosedError('too_many_pending', `Too many requests pending on ${this.pubClientId}`));
    }
    const timeoutMs = options.timeout ?? DEFAULT_INVOKE_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError('client_timeout', `Client ${this.pubClientId} did not respond within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      if (!this.write(frame)) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} is not connected`));
      }
    });
  }

  /** Settles a pending request; false when no request with this id is pending (late or unknown). */
  protected settleRequest(id: string, response: unknown): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(response);
    return true;
  }

  /** Closes the connection with a close frame (the reason is cut to the 123 bytes a close frame can carry). */
  close(code: number = CLOSE_CODE.NORMAL, reason = ''): void {
    if (this.#closed) return;
    // A peer that never answers the close handshake is cut off by ws after CLOSE_TIMEOUT_MS (the server's closeTimeout).
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, closeReason(reason));
  }

  /** Marks the client ready (registered, hook invoked) and starts pinging it. */
  protected markReady(): void {
    if (this.#ready || !this.isOpen) return;
    this.#ready = true;
    this.host.clientReady(this);
    this.#startPings();
  }

  #startPings(): void {
    const interval = this.host.config.pingInterval * 1000;
    if (interval <= 0) return;
    this.#pingTimer = setInterval(() => this.#ping(), interval);
    this.#pingTimer.unref();
  }

  #ping(): void {
    if (this.#awaitingPong) {
      this.#pingsMissed += 1;
      if (this.#pingsMissed >= this.host.config.pingsMissedThreshold) {
        this.log.info({ pingsMissed: this.#pingsMissed }, 'Closing a client that missed pings');
        this.close(CLOSE_CODE.PINGS_MISSED, 'Pings missed');
        return;
      }
    }
    this.#awaitingPong = true;
    try {
      this.ws.ping(pingPayload(newCid()));
    } catch (err) {
      this.log.warn({ err }, 'Ping failed');
      this.close(CLOSE_CODE.PING_ERROR, 'Ping error');
    }
  }

  #onPong(): void {
    this.lastSeen = Date.now();
    this.#awaitingPong = false;
    this.#pingsMissed = 0;
    this.onPong();
  }

  /** A pong arrived (zato: extends the token). */
  protected onPong(): void {}

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    this.#socket.off('data', this.#onData);
    // Calls still running answer no one; they no longer count against any limit.
    this.#calls.clear();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} disconnected (${code}) before responding`));
      this.#pending.delete(id);
    }
    this.onClosed();
    this.log.debug({ code, reason }, 'Client disconnected');
    this.host.clientClosed(this);
  }

  /** A bug of ours while handling this client's frame: logged once, counted, and the connection closed with 1011. */
  protected failed(err: unknown): void {
    this.log.error({ err }, 'Handling a client frame failed');
    this.host.protocolError('internal_error');
    this.close(CLOSE_CODE.INTERNAL_ERROR, 'Internal server error');
  }

  /** Protocol-specific clean-up after the connection closed. */
  protected onClosed(): void {}

  /**
   * Runs the channel's service; resolves with its payload or rejects with a `SwitchboardError`. A channel that
   * mounts the gateway resolves `{ service, request }` itself and invokes the target directly: the same checks
   * as the gateway service, one service call less per message.
   */
  // Not `async`: it hands back the invoker's own promise, which saves the extra turns a wrapping async
  // function costs on every message.
  protected invokeService(request: unknown, cid: string): Promise<unknown> {
    const context = { channel: this.host.channelInfo, client: this, cid };
    if (this.host.config.service !== GATEWAY_SERVICE) return this.host.invoker.invoke(this.host.config.service, request, context);
    let call: { service: string; request: unknown };
    try {
      call = resolveGatewayCall(request, this.host.channelInfo);
    } catch (err) {
      this.host.protocolError(toSwitchboardError(err).code);
      return Promise.reject(err);
    }
    return this.host.invoker.invoke(call.service, call.request, context);
  }

  /** Logs a failed service call once, at a level that fits its status. */
  protected logFailure(err: unknown, cid: string): ReturnType<typeof toSwitchboardError> {
    const e = toSwitchboardError(err);
    if (e.status >= 500) this.log.error({ cid, code: e.code, err: e.cause ?? e }, 'Service call failed');
    else this.log.debug({ cid, code: e.code, message: e.message }, 'Service call rejected');
    return e;
  }
}
