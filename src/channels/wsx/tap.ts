import { newHexId } from '../../protocol/index.js';
import { maskSecrets } from './tap-mask.js';
import {
  TAP_LIMITS,
  type TapEvent,
  type TapInfo,
  type TapSpec,
  type TapStopReason,
  type TapStopped,
  type TapWatcher,
} from './tap-events.js';

/** A frame's text as every tap shows it: measured, cut and masked once, however many taps see the frame. */
export interface FrameText {
  readonly size: number;
  readonly truncated: boolean;
  readonly text: string;
}

/** Measures, cuts (to `TAP_LIMITS.textBytes`) and masks a frame. */
export function frameText(data: string | Buffer): FrameText {
  const limit = TAP_LIMITS.textBytes;
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size <= limit) return { size, truncated: false, text: maskSecrets(data.toString()) };
  // A string cut at `limit` characters holds at least `limit` bytes; a character split by the byte cut is dropped.
  const bytes = typeof data === 'string' ? Buffer.from(data.slice(0, limit)) : data;
  const head = bytes
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { size, truncated: true, text: maskSecrets(head, true) };
}

const TICK_MS = 1000;

/**
 * One watcher's tap: counts every frame it is offered, shows at most `rate` a second (fixed one-second windows) and
 * counts the rest as skipped, with a `skipped` marker before the next frame shown and at least once a second. Events
 * leave in one batch per turn of the event loop; a watcher whose backlog passes `TAP_LIMITS.watcherBacklogBytes` is
 * dropped. Stops itself after `idleSeconds` without a frame and after `durationSeconds`.
 */
export class Tap {
  readonly id = `tap.${newHexId(8)}`;
  readonly spec: TapSpec;
  readonly startedAt = Date.now();
  readonly #watcher: TapWatcher;
  readonly #onStop: (tap: Tap) => void;
  #seq = 0;
  #shown = 0;
  #skipped = 0;
  #unreported = 0;
  #window = -1;
  #inWindow = 0;
  #lastFrameAt = this.startedAt;
  #lastDeliveryAt = this.startedAt;
  #queue: TapEvent[] = [];
  #flushing = false;
  #stopped = false;
  readonly #timer: NodeJS.Timeout;

  constructor(spec: TapSpec, watcher: TapWatcher, onStop: (tap: Tap) => void) {
    this.spec = spec;
    this.#watcher = watcher;
    this.#onStop = onStop;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** True when the tap watches this client. */
  watches(pubClientId: string): boolean {
    return this.spec.pubClientId === undefined || this.spec.pubClientId === pubClientId;
  }

  /** Counts a frame; true when it is to be shown (within the second's rate), false when it is skipped. */
  admit(now: number): boolean {
    this.#seq++;
    this.#lastFrameAt = now;
    const second = Math.floor(now / 1000);
    if (second !== this.#window) {
      this.#window = second;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.spec.rate) {
      this.#skipped++;
      this.#unreported++;
      return false;
    }
    this.#inWindow++;
    return true;
  }

  /** Queues an admitted frame (after any skipped marker due). */
  show(now: number, direction: 'in' | 'out', pubClientId: string, text: FrameText, binary: boolean): void {
    if (this.#stopped) return;
    this.#reportSkipped(now);
    this.#shown++;
    const at = new Date(now).toISOString();
    this.#queue.push({ type: 'frame', seq: this.#seq, direction, at, channel: this.spec.channel, pubClientId, ...text, binary });
    this.#scheduleFlush();
  }

  /** Stops the tap: the watcher gets what is queued, the last skipped count and a `stopped` event, and is closed. */
  stop(reason: TapStopReason, err?: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#onStop(this);
    this.#reportSkipped(Date.now());
    const stopped: TapStopped = { type: 'stopped', reason, frames: this.#shown, skipped: this.#skipped };
    // A watcher dropped for not reading gets nothing more: what it has not read is what it lost.
    const last = reason === 'watcher_not_reading' ? [] : [...this.#queue, stopped];
    this.#queue = [];
    try {
      this.#watcher.close(reason, last, err);
    } catch {
      // The watcher's own failure (its socket gone) changes nothing: the tap is stopped.
    }
  }

  info(): TapInfo {
    const { pubClientId, ...spec } = this.spec;
    return {
      tapId: this.id,
      ...spec,
      pubClientId: pubClientId ?? null,
      startedAt: new Date(this.startedAt).toISOString(),
      frames: this.#shown,
      skipped: this.#skipped,
    };
  }

  #reportSkipped(now: number): void {
    if (this.#unreported === 0) return;
    this.#queue.push({ type: 'skipped', count: this.#unreported, at: new Date(now).toISOString() });
    this.#unreported = 0;
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(flushTap, this);
  }

  /** @internal Hands the queued events to the watcher (one batch per turn of the event loop). */
  flush(): void {
    this.#flushing = false;
    if (this.#stopped || this.#queue.length === 0) return;
    if (this.#watcher.backlog > TAP_LIMITS.watcherBacklogBytes) return this.stop('watcher_not_reading');
    const events = this.#queue;
    this.#queue = [];
    this.#lastDeliveryAt = Date.now();
    this.#watcher.deliver(events);
  }

  #tick(): void {
    // A timer callback: nothing may escape it.
    try {
      const now = Date.now();
      const { durationSeconds, idleSeconds } = this.spec;
      if (now - this.startedAt >= durationSeconds * 1000) return this.stop('max_duration');
      if (now - this.#lastFrameAt >= idleSeconds * 1000) return this.stop('idle');
      if (this.#unreported > 0) {
        this.#reportSkipped(now);
        this.#scheduleFlush();
      } else if (now - this.#lastDeliveryAt >= TAP_LIMITS.keepAliveSeconds * 1000) {
        this.#lastDeliveryAt = now;
        this.#watcher.keepAlive();
      }
    } catch (err) {
      this.stop('internal_error', err);
    }
  }
}

// Shared by every tap (no closure per flush); a flush runs from setImmediate, so nothing may escape it.
function flushTap(tap: Tap): void {
  try {
    tap.flush();
  } catch (err) {
    tap.stop('internal_error', err);
  }
}
