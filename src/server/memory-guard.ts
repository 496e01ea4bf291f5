import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';

/** How often the heap is sampled: often enough to react within a second, rare enough to cost nothing. */
const SAMPLE_INTERVAL_MS = 1000;

/**
 * The server-wide memory guard: samples the heap on one timer (never per connection) and, while the heap in use
 * is above `fraction` of V8's heap limit, says `overloaded`, so channels refuse new connections with 503
 * `server_overloaded` instead of growing the heap until the process dies. Logged once per transition.
 */
export class MemoryGuard {
  #fraction: number;
  #overloaded = false;
  #ratio = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #logger: Logger;

  constructor(fraction: number, logger: Logger) {
    this.#fraction = fraction;
    this.#logger = logger.child({ part: 'memory-guard' });
  }

  /** True while new connections must be refused. */
  get overloaded(): boolean {
    return this.#overloaded;
  }

  /** Heap in use / heap limit at the last sample. */
  get heapRatio(): number {
    return this.#ratio;
  }

  /** The threshold; 0 means the guard is off. */
  get fraction(): number {
    return this.#fraction;
  }

  /** Changes the threshold and samples at once (for operators and tests). */
  setFraction(fraction: number): void {
    this.#fraction = fraction;
    this.sample();
  }

  /** Samples now and then every second. */
  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads the heap and updates `overloaded`. */
  sample(): void {
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    this.#ratio = limit > 0 ? used / limit : 0;
    const overloaded = this.#fraction > 0 && this.#ratio > this.#fraction;
    if (overloaded === this.#overloaded) return;
    this.#overloaded = overloaded;
    const details = { heapUsed: used, heapLimit: limit, fraction: this.#fraction };
    if (overloaded) this.#logger.warn(details, 'Heap above the memory guard: new WebSocket connections are refused');
    else this.#logger.info(details, 'Heap back below the memory guard: new WebSocket connections are accepted');
  }
}
