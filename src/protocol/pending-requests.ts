/**
 * The request-correlation table of one connection, the same on the channel side (server → client requests) and
 * the outgoing side (client → server requests): requests waiting for their reply, keyed by id, each with its
 * own timer, at most `max` at a time. Timers but no sockets; browser-safe.
 */

/** What a table says when it refuses a request or a request ends without a reply. */
export interface PendingErrors {
  /** The refusal of one more request over `max` (`count` are waiting). */
  tooMany(count: number): Error;
  /** A request not answered within its timeout. */
  timeout(timeoutMs: number): Error;
}

/** Options of one request. */
export interface PendingOptions {
  readonly timeoutMs: number;
  /**
   * Called synchronously when the reply is read, before the promise settles: a promise callback would run only
   * after the frames read after the reply.
   */
  readonly onReply?: (() => void) | undefined;
}

interface Entry<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
  onReply: (() => void) | undefined;
}

/** Requests waiting for a reply: add, settle or fail by id, fail all on close. */
export class PendingRequests<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #max: number;
  readonly #errors: PendingErrors;

  constructor(max: number, errors: PendingErrors) {
    this.#max = max;
    this.#errors = errors;
  }

  /** Requests waiting now. */
  get size(): number {
    return this.#entries.size;
  }

  /** True when one more request would be refused. */
  get isFull(): boolean {
    return this.#entries.size >= this.#max;
  }

  /** True when a request with this id is waiting. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * Registers request `id` and resolves with its reply. Rejects with `tooMany` when `max` wait already, and with
   * `timeout` after `timeoutMs`. Send the request after this (a synchronous reply would find nothing otherwise).
   */
  add(id: string, options: PendingOptions): Promise<T> {
    if (this.isFull) return Promise.reject(this.#errors.tooMany(this.#entries.size));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#entries.delete(id);
        reject(this.#errors.timeout(options.timeoutMs));
      }, options.timeoutMs);
      this.#entries.set(id, { resolve, reject, timer, onReply: options.onReply });
    });
  }

  /** Resolves request `id` with its reply; false when none is waiting (late, unknown or a duplicate). */
  settle(id: string, value: T): boolean {
    const entry = this.#take(id);
    if (!entry) return false;
    entry.onReply?.();
    entry.resolve(value);
    return true;
  }

  /** Rejects request `id` (a malformed reply, a send that failed); false when none is waiting. */
  fail(id: string, err: Error, isReply = true): boolean {
    const entry = this.#take(id);
    if (!entry) return false;
    if (isReply) entry.onReply?.();
    entry.reject(err);
    return true;
  }

  /** Rejects every waiting request (the connection closed). */
  failAll(err: Error): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
  }

  #take(id: string): Entry<T> | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}
