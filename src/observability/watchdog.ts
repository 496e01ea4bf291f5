import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SLOT, type ScopeLabel, type WatchdogWorkerData } from './watchdog-shared.js';

export type { ScopeLabel } from './watchdog-shared.js';

/** How the watchdog behaves (settings `stallWarnMs` and `stallExitMs`). */
export interface WatchdogOptions {
  /** A loop blocked this long is logged (by the watchdog thread while it lasts, by the main thread after). */
  readonly warnMs: number;
  /** A loop blocked this long kills the process (SIGKILL) so that a supervisor restarts it; 0: never. */
  readonly exitMs: number;
  readonly logger: Logger;
  /** Where the watchdog thread writes its lines; 1 (stdout) as the default logger does. */
  readonly fd?: number;
}

/** Stalls seen since start (a stall: the event loop did not run for `warnMs` or more). */
export interface StallStatistics {
  readonly stalls: number;
  readonly longestMs: number;
  readonly totalMs: number;
}

/**
 * Detects a blocked event loop. The main thread beats into shared memory from a timer; a worker thread, whose
 * own loop keeps running, notices when the beats stop. The invoker marks which service runs (`enter`/`leave`:
 * two stores into shared memory per call), so the report names it.
 */
export class EventLoopWatchdog {
  readonly #options: WatchdogOptions;
  readonly #state = new Int32Array(new SharedArrayBuffer(SLOT.size * Int32Array.BYTES_PER_ELEMENT));
  readonly #labels = new Map<number, ScopeLabel>();
  readonly #beatMs: number;
  #worker: Worker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastBeatAt = 0;
  #nextId = 1;
  #stalls = 0;
  #longestMs = 0;
  #totalMs = 0;

  constructor(options: WatchdogOptions) {
    this.#options = options;
    this.#beatMs = Math.min(250, Math.max(10, Math.floor(options.warnMs / 4)));
  }

  /** Starts the heartbeat and the watchdog thread. */
  start(): void {
    const data: WatchdogWorkerData = {
      buffer: this.#state.buffer as SharedArrayBuffer,
      warnMs: this.#options.warnMs,
      exitMs: this.#options.exitMs,
      checkMs: Math.min(100, Math.max(5, Math.floor(this.#options.warnMs / 10))),
      levelValue: this.#options.logger.levelVal,
      fd: this.#options.fd ?? 1,
    };
    const worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), {
      workerData: data,
      stdout: false,
      stderr: false,
    });
    // The watchdog must never be the reason the process stays up, nor take it down.
    worker.unref();
    worker.on('error', (err) =>
      this.#options.logger.error({ err }, 'The event-loop watchdog thread failed; stalls are no longer reported'),
    );
    for (const [id, label] of this.#labels) worker.postMessage({ id, label });
    this.#worker = worker;
    this.#lastBeatAt = performance.now();
    this.#timer = setInterval(() => this.#beat(), this.#beatMs);
    this.#timer.unref();
  }

  /** Stops the heartbeat and the thread. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  /** A number for a service or a file import, for `enter`; the watchdog thread learns its name now. */
  register(label: ScopeLabel): number {
    const id = this.#nextId++;
    this.#labels.set(id, label);
    this.#worker?.postMessage({ id, label });
    return id;
  }

  /** Marks scope `id` as running; returns the one that ran before, for `leave`. */
  enter(id: number): number {
    // Plain stores, not Atomics.store (half the cost on the hot path): an int32 store is never torn, and the
    // watchdog reads it a whole warning period later.
    const state = this.#state;
    const previous = state[SLOT.current]!;
    state[SLOT.current] = id;
    return previous;
  }

  /** Marks `previous` (what `enter` returned) as running again. */
  leave(previous: number): void {
    this.#state[SLOT.current] = previous;
  }

  /** Stalls seen since start. */
  statistics(): StallStatistics {
    return { stalls: this.#stalls, longestMs: this.#longestMs, totalMs: this.#totalMs };
  }

  // Runs on the main thread: a late beat is a stall that just ended.
  #beat(): void {
    Atomics.add(this.#state, SLOT.beat, 1);
    const now = performance.now();
    const blockedMs = Math.round(now - this.#lastBeatAt - this.#beatMs);
    this.#lastBeatAt = now;
    if (blockedMs < this.#options.warnMs) return;
    this.#stalls++;
    this.#totalMs += blockedMs;
    this.#longestMs = Math.max(this.#longestMs, blockedMs);
    const seen = Atomics.exchange(this.#state, SLOT.stallScope, 0);
    const label = this.#labels.get(seen || this.#state[SLOT.current]!);
    this.#options.logger.warn(
      { part: 'watchdog', ...label, blockedMs },
      'The event loop was blocked; every channel, timer and request waited',
    );
  }
}
