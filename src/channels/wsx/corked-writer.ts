import type { Duplex } from 'node:stream';

/**
 * Batches a connection's writes: the first write in a tick corks the socket and the next tick uncorks it,
 * so every frame produced while handling one TCP read leaves in one `writev` instead of one syscall each.
 * `ws` makes one socket write per `send()`; this is the lever that multiplies small-message throughput.
 */
export class CorkedWriter {
  readonly #socket: Duplex;
  #corked = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  /** Call before each `ws.send()`. */
  cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(this.#uncork);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };
}
