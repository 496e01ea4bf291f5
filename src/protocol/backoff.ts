/** Reconnect backoff in seconds: delay n = random(0, min(max, initial × factor^n)) ("full jitter"). */
export interface BackoffConfig {
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
}

/**
 * Milliseconds to wait before reconnect attempt `attempt` (0-based): exponential backoff with full jitter,
 * a uniformly random delay between 0 and `min(max, initial × factor^attempt)`. Jitter keeps a fleet of clients
 * that lost the same server from reconnecting in lock step.
 */
export function backoffDelay(attempt: number, config: BackoffConfig, random: () => number = Math.random): number {
  return Math.round(random() * backoffCeiling(attempt, config));
}

/** The upper bound of `backoffDelay` for an attempt, in milliseconds; waits that need no jitter use it as is. */
export function backoffCeiling(attempt: number, config: BackoffConfig): number {
  return Math.round(Math.min(config.max, config.initial * config.factor ** Math.min(attempt, 64)) * 1000);
}
