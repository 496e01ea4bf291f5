import type { Logger } from 'pino';
import { clip } from './errors.js';
import type { SocketStats } from './socket-link.js';

/** Ignored frames are logged once, then at most once per this many ms with the count, so a flood is not a log flood. */
const LOG_INTERVAL = 10_000;

/** Frames from the remote (or sends to it) left out: each counted in `badFrames`, the log line throttled. */
export class IgnoredFrames {
  readonly #stats: SocketStats;
  readonly #log: Logger;
  #sinceLog = 0;
  #lastLog = 0;

  constructor(stats: SocketStats, log: Logger) {
    this.#stats = stats;
    this.#log = log;
  }

  /** Counts one, and logs it with how many there were if the last log line is old enough. */
  record(reason: string): void {
    this.#stats.badFrames++;
    this.#sinceLog++;
    const now = Date.now();
    if (now - this.#lastLog < LOG_INTERVAL) return;
    this.#log.warn(
      { reason: clip(reason), ignored: this.#sinceLog },
      'Ignored a frame from the remote, or a send to it (logged once per 10 s)',
    );
    this.#lastLog = now;
    this.#sinceLog = 0;
  }
}
