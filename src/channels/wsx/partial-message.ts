import type { WebSocket } from 'ws';
import type { Logger } from 'pino';

/** What `ws` keeps of a message still being received (private fields: `ws` has no public API for this). */
interface ReceiverState {
  readonly _bufferedBytes?: number;
  readonly _fragmented?: number;
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

/**
 * Since when a connection's message has been incomplete (for `frameTimeout`): one timestamp when a message starts
 * and stays incomplete after a read, no timer per frame. The channel's sweep reads `since`.
 */
export class PartialMessage {
  /** When the first byte of a message still incomplete arrived; 0 when none is. */
  since = 0;
  readonly #receiver: ReceiverState | undefined;

  constructor(ws: WebSocket, log: Logger) {
    this.#receiver = receiverOf(ws, log);
  }

  /** A whole message arrived. */
  complete(): void {
    this.since = 0;
  }

  /** Reading resumes after a pause: the read deadline of a message we stopped reading starts again. */
  restart(): void {
    if (this.since !== 0) this.since = Date.now();
  }

  /** A TCP read was handled: called after ws's own 'data' listener, so the receiver has parsed the chunk already. */
  afterRead(): void {
    const receiver = this.#receiver;
    if (!receiver) return;
    const partial = (receiver._bufferedBytes ?? 0) > 0 || (receiver._fragmented ?? 0) !== 0;
    if (!partial) this.since = 0;
    else if (this.since === 0) this.since = Date.now();
  }
}
