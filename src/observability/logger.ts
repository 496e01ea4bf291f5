import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger; level from SWITCHBOARD_LOG_LEVEL (default `info`). */
export function createLogger(level = process.env.SWITCHBOARD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'switchboard' } });
}

/** A logger that discards everything, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
