import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { ConnectionClosedError, SwitchboardError, TimeoutError } from '../../errors/index.js';
import { CLOSE_CODE, Heartbeat, PendingRequests, newCid, pingPayload } from '../../protocol/index.js';
import type { ClientInvokeOptions, WsxClientInfo, CallingClient, InvokeDone } from '../../services/index.js';
import type { ClientAuth, ConnectionHost, PushTarget } from './connection-host.js';
import { closeReason } from './close-reason.js';
import { ConnectionPings, listen, stopReading, type CallbackTarget } from './connection-callbacks.js';
import { CorkedWriter } from './corked-writer.js';
import { DEFAULT_INVOKE_TIMEOUT_MS, MAX_PENDING_REQUESTS, MAX_WRITE_BUFFER, WRITE_HIGH_WATER } from './connection-limits.js';
import { InFlightCalls } from './in-flight-calls.js';
import { MessageRate } from './message-rate.js';
import { PartialMessage } from './partial-message.js';
import { PushPayload } from './push-payload.js';
import { invokeService } from './service-calls.js';

export type { ConnectionHost, MessageStats, PushTarget } from './connection-host.js';

/**
 * One connection a channel accepted (the server side of a client's WebSocket). Owns the socket's lifetime: pings,
 * the close, backpressure, batching of writes, and server → client requests. The protocol (zato or plain) lives
 * in the subclasses.
 */
export abstract class ChannelConnection implements CallingClient, PushTarget, CallbackTarget {
  readonly pubClientId = `ws.${newCid()}`;
  readonly peerAddress: string;
  /** When the connection was accepted (ms since the epoch). */
  readonly connectedAt = Date.now();
  lastSeen = Date.now();
  extClientId: string | undefined;
  extClientName: string | undefined;
  /** What a verified JWT says of this client (claims, expiry; handshake-auth.ts); undefined for other kinds. */
  auth: ClientAuth | undefined;

  protected readonly ws: WebSocket;
  protected readonly host: ConnectionHost;
  // Made on first use (a child logger is ~760 bytes per connection, and most connections never log).
  #log: Logger | undefined;
  readonly #socket: Duplex;
  readonly #writer: CorkedWriter;
  // Made by the first server → client request (~390 bytes per connection that most connections never use).
  #pending: PendingRequests<unknown> | undefined;
  readonly #heartbeat: Heartbeat;
  #readPaused = false;
  #ready = false;
  #closed = false;
  readonly #partial: PartialMessage;
  readonly #calls = new InFlightCalls();
  // Over the channel's message rate (when it connected) a message is refused before anything reads it.
  readonly #rate: MessageRate | undefined;

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ConnectionHost) {
    this.ws = ws;
    this.host = host;
    this.#socket = socket;
    this.#writer = new CorkedWriter(socket);
    this.#rate = host.config.messageRate === null ? undefined : new MessageRate();
    const { remoteAddress, remotePort } = req.socket;
    this.peerAddress = remoteAddress ? `${remoteAddress}:${remotePort ?? 0}` : 'unknown';
    this.#partial = new PartialMessage(ws, host.logger);
    this.#heartbeat = new Heartbeat(new ConnectionPings(this, host.config.pingInterval * 1000, host.config.pingsMissedThreshold));
    listen(ws, socket, this);
  }

  /** @internal A message arrived (the WebSocket's listener). */
  received(data: Buffer, isBinary: boolean): void {
    this.#partial.complete();
    this.lastSeen = Date.now();
    this.host.stats.messagesIn++;
    if (this.host.taps.active) this.host.taps.frame(this, 'in', data, isBinary);
    // Whatever a frame contains, nothing may escape the listener: `ws` would rethrow it and end the process.
    try {
      if (this.#rate?.refused(this, this.host, this.lastSeen, data)) return;
      this.onMessage(data, isBinary);
    } catch (err) {
      this.failed(err);
    }
  }

  /** @internal A TCP read is about to be handled (then `afterRead`: what it produced leaves). */
  beforeRead(): void {
    this.#writer.beginRead();
  }

  /** @internal See `beforeRead`. */
  afterRead(): void {
    this.#partial.afterRead();
    this.#writer.endRead();
  }

  /** @internal The WebSocket failed (ws closes it itself). */
  webSocketError(err: Error): void {
    this.log.debug({ err: err.message }, 'WebSocket error');
  }

  /** This connection's logger (the channel's, with its `pubClientId`). */
  protected get log(): Logger {
    return (this.#log ??= this.host.logger.child({ pubClientId: this.pubClientId }));
  }

  #pendingRequests(): PendingRequests<unknown> {
    return (this.#pending ??= new PendingRequests<unknown>(MAX_PENDING_REQUESTS, {
      tooMany: () => new ConnectionClosedError('too_many_pending', `Too many requests pending on ${this.pubClientId}`),
      timeout: (ms) => new TimeoutError('client_timeout', `Client ${this.pubClientId} did not respond within ${ms} ms`),
    }));
  }

  /**
   * @internal Called by the channel's sweep timer: pings when a ping is due, closes a connection whose message has
   * not completed within `frameTimeout` (1008), and answers calls running longer than `invokeTimeout` with 504
   * `timeout`.
   */
  sweep(now: number): void {
    if (this.#closed) return;
    this.#heartbeat.due(now);
    const { frameTimeout, invokeTimeout } = this.host.config;
    // While we do not read (backpressure), an incomplete message is our doing, not the client's.
    const since = this.#partial.since;
    if (since !== 0 && !this.#readPaused && now - since > frameTimeout * 1000) {
      this.#partial.complete();
      this.host.protocolError('frame_timeout');
      this.log.info({ frameTimeout }, 'Closing a client whose message did not complete in time');
      this.close(CLOSE_CODE.POLICY, 'Message not completed in time');
      return;
    }
    this.#calls.expire(
      now,
      invokeTimeout * 1000,
      () => new TimeoutError('timeout', `The service did not answer within ${invokeTimeout} s`),
    );
  }

  /** Service calls of this connection still running. */
  protected get callsInFlight(): number {
    return this.#calls.size;
  }

  /**
   * Runs a service call under the channel's `invokeTimeout`; `done` is called once: with the payload, with the
   * service's error, or with 504 `timeout` if it has not settled by then (the service itself runs on; its late
   * answer is dropped), and the call's slot is freed. A synchronous service's `done` runs before this returns.
   */
  protected callService(request: unknown, cid: string, done: InvokeDone): void {
    // The message's arrival time (set just before) is the call's start: no second clock read.
    const key = this.#calls.start(this.lastSeen, done);
    invokeService(this.host, this, request, cid, (err, payload) => {
      const finish = this.#calls.finish(key);
      if (!finish) return;
      // An answer arriving from a service's promise: what writing it throws must not become a rejection.
      try {
        finish(err, payload);
      } catch (error) {
        this.failed(error);
      }
    });
  }

  abstract readonly protocol: 'zato' | 'plain';
  abstract readonly hasSession: boolean;

  /** Handles one received message. */
  protected abstract onMessage(data: Buffer, isBinary: boolean): void;

  /** Encodes a message the server pushes (send, broadcast) in this protocol. */
  protected abstract encodePush(payload: PushPayload): string | Buffer;

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
      connectedAt: new Date(this.connectedAt).toISOString(),
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
    if (this.host.taps.active) this.host.taps.frame(this, 'out', frame, binary);
    if (!this.#readPaused && this.#socket.writableLength > WRITE_HIGH_WATER) this.#pauseReading();
    return true;
  }

  // A client that does not read would make the server hold it all: dropped at once (a close frame would queue).
  #cutOff(queued: number): void {
    this.host.protocolError('client_not_reading');
    this.log.warn({ queuedBytes: queued }, 'Dropping a client that does not read what is sent to it');
    this.ws.terminate();
  }

  // A client sending faster than it reads our replies is not read until they drain: its backlog stays in TCP.
  #pauseReading(): void {
    this.#readPaused = true;
    this.ws.pause();
    this.#socket.once('drain', () => {
      this.#readPaused = false;
      this.#partial.restart();
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
    return this.sendPayload(new PushPayload(data));
  }

  /** Sends a message whose encoding may be shared with other connections (a broadcast). */
  async sendPayload(payload: PushPayload): Promise<void> {
    if (!this.write(this.encodePush(payload)))
      throw new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} is not connected`);
  }

  /** Sends a request and resolves with the client's response (its `data.response`). */
  invoke(data: unknown, options: ClientInvokeOptions = {}): Promise<unknown> {
    const id = newCid();
    const frame = this.encodeRequest(id, data);
    if (frame === undefined) {
      return Promise.reject(new SwitchboardError('not_supported', 'Plain-protocol clients cannot answer requests; use send()'));
    }
    const pending = this.#pendingRequests();
    const reply = pending.add(id, { timeoutMs: options.timeout ?? DEFAULT_INVOKE_TIMEOUT_MS });
    if (pending.has(id) && !this.write(frame))
      pending.fail(id, new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} is not connected`), false);
    return reply;
  }

  /** Settles a pending request; false when no request with this id is pending (late or unknown). */
  protected settleRequest(id: string, response: unknown): boolean {
    return this.#pending?.settle(id, response) ?? false;
  }

  /** Closes the connection with a close frame (the reason is cut to the 123 bytes a close frame can carry). */
  close(code: number = CLOSE_CODE.NORMAL, reason = ''): void {
    if (this.#closed) return;
    // A peer that never answers the close handshake is cut off by ws after CLOSE_TIMEOUT_MS (the server's closeTimeout).
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code, closeReason(reason));
  }

  /** Marks the client ready (registered, hook invoked) and starts pinging it. */
  protected markReady(): void {
    if (this.#ready || !this.isOpen) return;
    this.#ready = true;
    this.host.clientReady(this);
    this.#heartbeat.start();
  }

  /** @internal The heartbeat's ping: a compact zwsx.rqc meta, as Zato's; one that cannot be sent ends the connection. */
  sendPing(): void {
    try {
      this.ws.ping(pingPayload(newCid()));
    } catch (err) {
      this.log.warn({ err }, 'Ping failed');
      this.close(CLOSE_CODE.PING_ERROR, 'Ping error');
    }
  }

  /** @internal The heartbeat found the client dead. */
  missedPings(missed: number): void {
    this.log.info({ pingsMissed: missed }, 'Closing a client that missed pings');
    this.close(CLOSE_CODE.PINGS_MISSED, 'Pings missed');
  }

  /** @internal A pong arrived. */
  ponged(): void {
    this.lastSeen = Date.now();
    this.#heartbeat.onPong();
    this.onPong();
  }

  /** A pong arrived (zato: extends the token). */
  protected onPong(): void {}

  /** @internal The WebSocket closed. */
  closedWith(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#heartbeat.stop();
    stopReading(this.#socket);
    // Calls still running answer no one; they no longer count against any limit.
    this.#calls.clear();
    this.#pending?.failAll(
      new ConnectionClosedError('connection_closed', `Client ${this.pubClientId} disconnected (${code}) before responding`),
    );
    this.onClosed();
    // Not a child logger made only to be dropped, for every connection that closes.
    if (this.host.logger.isLevelEnabled('debug')) this.log.debug({ code, reason }, 'Client disconnected');
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
}
