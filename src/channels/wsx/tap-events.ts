// What a tap shows and how far it goes: types and bounds alone (no imports), so that the web admin's bundle can
// use them as they are.

/** The bounds of taps; the per-tap ones are defaults and maximums of what a tap may ask for. */
export const TAP_LIMITS = {
  /** Taps running at once on one server. */
  maxTaps: 10,
  /** Frames a tap passes per second unless it asks for fewer or more (up to `maxRate`); the others are skipped. */
  defaultRate: 50,
  maxRate: 1000,
  /** Bytes of a frame's text a tap shows (its `size` is the whole frame's). */
  textBytes: 4096,
  /** Seconds a tap runs at most (default, and the most one may ask for). */
  defaultDurationSeconds: 1800,
  maxDurationSeconds: 3600,
  /** Seconds without a frame after which a tap stops (default, and the most one may ask for). */
  defaultIdleSeconds: 600,
  maxIdleSeconds: 3600,
  /** Bytes handed to a watcher and not yet sent: past this it does not read, and it is dropped. */
  watcherBacklogBytes: 1024 * 1024,
  /** A watcher that got nothing for this long gets a keep-alive (so proxies keep the stream open). */
  keepAliveSeconds: 15,
} as const;

/** One frame a tap saw, its text masked and cut to `TAP_LIMITS.textBytes`. */
export interface TapFrame {
  readonly type: 'frame';
  /** The tap's count of frames it saw, skipped ones included: a gap in `seq` is where frames were skipped. */
  readonly seq: number;
  readonly direction: 'in' | 'out';
  /** ISO 8601, with milliseconds. */
  readonly at: string;
  readonly channel: string;
  readonly pubClientId: string;
  /** The whole frame's size in bytes. */
  readonly size: number;
  readonly truncated: boolean;
  /** A binary frame (its text is its bytes read as UTF-8). */
  readonly binary: boolean;
  readonly text: string;
}

/** Frames not shown because the tap was over its rate, since the last such marker. */
export interface TapSkipped {
  readonly type: 'skipped';
  readonly count: number;
  readonly at: string;
}

/** Why a tap stopped. */
export type TapStopReason =
  | 'stopped'
  | 'watcher_closed'
  | 'watcher_not_reading'
  | 'idle'
  | 'max_duration'
  | 'client_disconnected'
  | 'server_stopping'
  | 'internal_error';

/** The last event of a tap. */
export interface TapStopped {
  readonly type: 'stopped';
  readonly reason: TapStopReason;
  /** Frames shown and skipped over the tap's life. */
  readonly frames: number;
  readonly skipped: number;
}

/** What a tap sends its watcher. */
export type TapEvent = TapFrame | TapSkipped | TapStopped;

/** Who watches a tap: the admin's stream to a page. */
export interface TapWatcher {
  /** Bytes handed over and not yet sent (a watcher that does not read has a growing backlog). */
  readonly backlog: number;
  deliver(events: readonly TapEvent[]): void;
  /** Nothing was delivered for a while: shows the stream is alive. */
  keepAlive(): void;
  /** The tap stopped; `events` holds its last ones (empty when the watcher is dropped for not reading). */
  close(reason: TapStopReason, events: readonly TapEvent[], err?: unknown): void;
}

/** What a tap watches, and how much of it. */
export interface TapSpec {
  readonly channel: string;
  /** One client; undefined: every client of the channel. */
  readonly pubClientId?: string | undefined;
  /** Frames shown per second. */
  readonly rate: number;
  readonly durationSeconds: number;
  readonly idleSeconds: number;
  /** Who started it, for the list of taps and the log. */
  readonly startedBy: string;
}

/** A running tap, as the admin API lists it. */
export interface TapInfo extends Omit<TapSpec, 'pubClientId'> {
  readonly tapId: string;
  readonly pubClientId: string | null;
  readonly startedAt: string;
  readonly frames: number;
  readonly skipped: number;
}
