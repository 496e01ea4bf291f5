import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { HeartbeatOptions } from '../../protocol/index.js';

// The callbacks every channel connection needs — the WebSocket's and the socket's listeners, the heartbeat's ping and
// dead — shared by all connections instead of closures made for each: an idle connection's memory is what 100,000
// of them cost (bench/connections). Each listener finds its connection through the emitter (`this`).

/** What the shared callbacks call on their connection (the `@internal` methods of `ChannelConnection`). */
export interface CallbackTarget {
  received(data: Buffer, isBinary: boolean): void;
  ponged(): void;
  closedWith(code: number, reason: string): void;
  webSocketError(err: Error): void;
  beforeRead(): void;
  afterRead(): void;
  sendPing(): void;
  missedPings(missed: number): void;
}

const kTarget = Symbol('connection');
type Owned<T> = T & { [kTarget]: CallbackTarget };

function targetOf(emitter: WebSocket | Duplex): CallbackTarget {
  return (emitter as Owned<typeof emitter>)[kTarget];
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  targetOf(this).received(data as Buffer, isBinary);
}

function onPong(this: WebSocket): void {
  targetOf(this).ponged();
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  targetOf(this).closedWith(code, reason.toString());
}

function onError(this: WebSocket, err: Error): void {
  targetOf(this).webSocketError(err);
}

function beforeRead(this: Duplex): void {
  targetOf(this).beforeRead();
}

function afterRead(this: Duplex): void {
  targetOf(this).afterRead();
}

/** Attaches `target`'s listeners to its WebSocket and to the socket under it. */
export function listen(ws: WebSocket, socket: Duplex, target: CallbackTarget): void {
  (ws as Owned<WebSocket>)[kTarget] = target;
  (socket as Owned<Duplex>)[kTarget] = target;
  // Around ws's own 'data' listener (added at the upgrade): a read's replies are batched, its partial message seen.
  socket.prependListener('data', beforeRead);
  socket.on('data', afterRead);
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('close', onClose);
  // `ws` closes the connection itself on protocol errors (1002, 1007, 1009); without a listener they would crash us.
  ws.on('error', onError);
}

/** Detaches the socket's read listeners (the connection closed). */
export function stopReading(socket: Duplex): void {
  socket.off('data', beforeRead);
  socket.off('data', afterRead);
}

/** A connection's heartbeat settings and callbacks: a small object, no closures. */
export class ConnectionPings implements HeartbeatOptions {
  constructor(
    readonly target: CallbackTarget,
    readonly intervalMs: number,
    readonly missedThreshold: number,
  ) {}

  // Pings are driven by the channel's sweep: no timer per connection.
  get driven(): boolean {
    return true;
  }

  ping(): void {
    this.target.sendPing();
  }

  dead(missed: number): void {
    this.target.missedPings(missed);
  }
}
