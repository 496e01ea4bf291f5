/**
 * MESSAGE hook calls of one socket, at most `max` at a time. When all slots are taken, tasks wait in order and
 * the caller stops reading (so a flood is pushed back to the remote over TCP instead of piling up here);
 * `onIdle` says when a slot is free again and nothing waits.
 */
export class HookSlots {
  readonly #max: number;
  readonly #onError: (err: unknown) => void;
  readonly #onIdle: () => void;
  readonly #queue: Array<() => Promise<void>> = [];
  #running = 0;

  constructor(max: number, handlers: { onError(err: unknown): void; onIdle(): void }) {
    this.#max = max;
    this.#onError = handlers.onError;
    this.#onIdle = handlers.onIdle;
  }

  /** Hook calls running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `task` now, or queues it and returns false (then stop reading until `onIdle`). */
  run(task: () => Promise<void>): boolean {
    if (this.#running >= this.#max) {
      this.#queue.push(task);
      return false;
    }
    this.#start(task);
    return true;
  }

  #start(task: () => Promise<void>): void {
    this.#running++;
    Promise.resolve()
      .then(task)
      .catch((err: unknown) => this.#onError(err))
      .finally(() => this.#done());
  }

  // Tasks read before a reconnect still run (a new socket does not wait for them to finish).
  #done(): void {
    this.#running--;
    const next = this.#queue.shift();
    if (next) return this.#start(next);
    this.#onIdle();
  }
}
