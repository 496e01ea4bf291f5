import type { SeqBlock } from '../store/index.js';

interface Waiter {
  resolve(seq: number): void;
  reject(err: unknown): void;
}

/** Where the allocator gets its blocks, and whom it tells of a failed prefetch nobody waited for. */
export interface SeqAllocatorOptions {
  readonly reserve: () => Promise<SeqBlock>;
  readonly prefetchFailed?: (err: unknown) => void;
}

/**
 * Hands out publication sequence numbers, strictly increasing, from blocks the database reserves for this server
 * (cluster-notes §3.9): synchronously from the current block, fetching the next one once half of it is used, so a
 * publish waits for the database only when a block runs out before the next one came. Callers that wait are served
 * in their order, before anyone later. A failed fetch fails those waiting; the next call fetches again.
 */
export class SeqAllocator {
  readonly #reserve: () => Promise<SeqBlock>;
  readonly #prefetchFailed: (err: unknown) => void;
  #next = 0;
  #end = 0;
  #half = 0;
  #ahead: SeqBlock | undefined;
  #fetching = false;
  readonly #waiters: Waiter[] = [];

  constructor(options: SeqAllocatorOptions) {
    this.#reserve = options.reserve;
    this.#prefetchFailed = options.prefetchFailed ?? (() => undefined);
  }

  /** Reserves the first block, so that the first publications do not wait; throws if the database cannot. */
  async start(): Promise<void> {
    this.#use(await this.#reserve());
  }

  /** The next number, or undefined when the caller has to wait for a block (then call {@link next}). */
  take(): number | undefined {
    if (this.#waiters.length) return undefined;
    return this.#fromBlocks();
  }

  /** The next number, waiting for the next block if the current one is used up. */
  next(): Promise<number> {
    const seq = this.take();
    if (seq !== undefined) return Promise.resolve(seq);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#fetch();
    });
  }

  #fromBlocks(): number | undefined {
    if (this.#next >= this.#end && this.#ahead) {
      this.#use(this.#ahead);
      this.#ahead = undefined;
    }
    if (this.#next >= this.#end) {
      this.#fetch();
      return undefined;
    }
    const seq = this.#next++;
    if (this.#end - this.#next <= this.#half) this.#fetch();
    return seq;
  }

  #use(block: SeqBlock): void {
    this.#next = block.first;
    this.#end = block.first + block.size;
    this.#half = Math.floor(block.size / 2);
  }

  #fetch(): void {
    if (this.#fetching || this.#ahead) return;
    this.#fetching = true;
    // Through `then` so that a reserve() that throws synchronously fails the waiters, as a rejected one does.
    Promise.resolve()
      .then(() => this.#reserve())
      .then(
        (block) => this.#arrived(block),
        (err: unknown) => this.#failed(err),
      );
  }

  #arrived(block: SeqBlock): void {
    // An empty block would have every call fetch again at once, for ever.
    if (!(block.size >= 1 && Number.isSafeInteger(block.first + block.size))) {
      this.#failed(new Error(`The store reserved no usable sequence numbers (${JSON.stringify(block)})`));
      return;
    }
    this.#fetching = false;
    this.#ahead = block;
    while (this.#waiters.length) {
      const seq = this.#fromBlocks();
      if (seq === undefined) return;
      this.#waiters.shift()?.resolve(seq);
    }
  }

  #failed(err: unknown): void {
    this.#fetching = false;
    if (!this.#waiters.length) {
      this.#prefetchFailed(err);
      return;
    }
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }
}
