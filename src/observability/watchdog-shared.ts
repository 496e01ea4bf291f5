/** Slots of the Int32Array the main thread and the watchdog thread share. */
export const SLOT = {
  /** Bumped by the main thread on every heartbeat. */
  beat: 0,
  /** The scope running now (a service or a file import), 0 for none. */
  current: 1,
  /** Written by the watchdog: the scope it saw running when it reported a stall. */
  stallScope: 2,
  size: 4,
} as const;

/** What a scope number stands for, in log lines. */
export interface ScopeLabel {
  readonly service?: string;
  readonly file?: string;
}

/** What the watchdog thread is started with. */
export interface WatchdogWorkerData {
  readonly buffer: SharedArrayBuffer;
  readonly warnMs: number;
  readonly exitMs: number;
  readonly checkMs: number;
  /** pino's numeric level of the server logger; lines below it are not written. */
  readonly levelValue: number;
  /** Where log lines go (1: stdout, like the server's logger). */
  readonly fd: number;
}
