import type { Duplex } from 'node:stream';

/**
 * Batches a connection's writes so that every frame produced for one TCP read leaves in one `writev`: frames
 * written while a read is handled (synchronous services answer inside it) are flushed when the read ends; frames
 * written at other times (async services, pushes, deliveries) are flushed on the next tick. `ws` makes one socket
 * write per `send()`; this is the lever that multiplies small-message throughput (bench/echo, pipelined). A read
 * that produces one frame costs no timer and no extra tick: the 1-in-flight client's case (bench/echo, 200x1).
 */
export class CorkedWriter {
  readonly #socket: Duplex;
  #corked = false;
  #reading = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  /** Call before each `ws.send()`. */
  cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    if (!this.#reading) process.nextTick(uncorkLater, this);
  }

  /** A TCP read is about to be handled (the socket's first 'data' listener). */
  beginRead(): void {
    // Left corked by a read whose end was never seen (a listener threw): nothing may stay unsent.
    if (this.#corked) this.uncork();
    this.#reading = true;
  }

  /** The read has been handled (the socket's last 'data' listener): what it produced leaves now. */
  endRead(): void {
    this.#reading = false;
    if (this.#corked) this.uncork();
  }

  /** Sends what is corked now. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }
}

// The next tick's flush, shared by every writer (no bound closure per connection: bench/connections).
function uncorkLater(writer: CorkedWriter): void {
  writer.uncork();
}
