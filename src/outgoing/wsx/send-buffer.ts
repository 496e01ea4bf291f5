import { WebSocket } from 'ws';
import { ConnectionClosedError } from '../../errors/index.js';
import type { OutgoingConfig } from './config.js';
import { SendBufferFullError } from './errors.js';
import type { IgnoredFrames } from './ignored-frames.js';
import { NotConnectedError, type SocketState, type SocketStats } from './socket-link.js';

// The writes of an outgoing socket, bounded by `maxBufferedBytes`: a remote that does not read is refused more
// (or has our own frames skipped) rather than the bytes queued for it growing without end.

/** The open socket, if what waits to be written to it is within `maxBufferedBytes` (a remote that does not read). */
export function writableSocket(ws: WebSocket | undefined, state: SocketState, config: OutgoingConfig): WebSocket {
  if (state !== 'connected' || !ws || ws.readyState !== WebSocket.OPEN) throw new NotConnectedError(config.name, state);
  if (ws.bufferedAmount > config.maxBufferedBytes)
    throw new SendBufferFullError(
      'send_buffer_full',
      `Outgoing connection ${config.name}: ${ws.bufferedAmount} bytes are waiting to be written (the remote is not reading; limit ${config.maxBufferedBytes})`,
    );
  return ws;
}

/** Our own frames (acknowledgements, answers): skipped, and counted, while the remote does not read. */
export function sendOwn(ws: WebSocket, frame: string, config: OutgoingConfig, ignored: IgnoredFrames): void {
  if (ws.bufferedAmount > config.maxBufferedBytes) {
    ignored.record(`not sent: ${ws.bufferedAmount} bytes are waiting to be written (the remote is not reading)`);
    return;
  }
  ws.send(frame);
}

/** Sends a message as is (plain remotes; objects are JSON-encoded) on a writable socket; resolves once written. */
export function writeAsIs(ws: WebSocket, data: unknown, stats: SocketStats, name: string): Promise<void> {
  const frame = typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
  stats.messagesOut++;
  return new Promise((resolve, reject) => {
    ws.send(frame, { binary: Buffer.isBuffer(frame) }, (err) =>
      err ? reject(new ConnectionClosedError('connection_closed', `Write to ${name} failed: ${err.message}`)) : resolve(),
    );
  });
}
