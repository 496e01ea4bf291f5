import type { ConfigChange, Store } from './store.js';

/**
 * Applies one kind's committed configuration changes one at a time, in order, so that a part's live objects
 * follow the store without racing themselves. Other tasks (start-up, shutdown) can join the same queue.
 */
export class ChangeFollower<T> {
  readonly #store: Store;
  readonly #kind: string;
  readonly #apply: (change: ConfigChange<T>) => Promise<void>;
  readonly #onError: (err: unknown) => void;
  #queue: Promise<void> = Promise.resolve();
  readonly #listener = (change: ConfigChange) => {
    if (change.kind === this.#kind) this.run(() => this.#apply(change as ConfigChange<T>));
  };

  constructor(store: Store, kind: string, apply: (change: ConfigChange<T>) => Promise<void>, onError: (err: unknown) => void) {
    this.#store = store;
    this.#kind = kind;
    this.#apply = apply;
    this.#onError = onError;
  }

  /** Starts following changes. */
  start(): void {
    this.#store.on('change', this.#listener);
  }

  /** Stops following changes (tasks already queued still run). */
  stop(): void {
    this.#store.off('change', this.#listener);
  }

  /** Queues a task behind every change announced so far; a failure is reported, not thrown. */
  run(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch(this.#onError);
  }

  /** Resolves once everything queued so far has been applied. */
  settled(): Promise<void> {
    return this.#queue;
  }
}
