/**
 * A token bucket refilled lazily: no timer, the tokens earned since the last take are added when the next one
 * comes. Two numbers, so one can live on every connection. The rate and size are passed on each take, so a
 * channel's live config change applies to buckets already made.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  /** A full bucket of `burst` tokens at `now` (ms). */
  constructor(now: number, burst: number) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token at `now` (ms): true, or false when fewer than one is left (nothing is taken then). */
  take(now: number, rate: number, burst: number): boolean {
    this.#refill(now, rate, burst);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whole seconds until one token is there (at least 1): what a `Retry-After` says. */
  secondsToNext(rate: number): number {
    return Math.max(1, Math.ceil((1 - this.#tokens) / rate));
  }

  /** True when the bucket has refilled to `burst` by `now`: it is no different from a new one. */
  isFull(now: number, rate: number, burst: number): boolean {
    this.#refill(now, rate, burst);
    return this.#tokens >= burst;
  }

  #refill(now: number, rate: number, burst: number): void {
    // A clock that went back earns nothing (and takes nothing away).
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(burst, this.#tokens + (elapsed * rate) / 1000);
    this.#at = now;
  }
}

/** A bucket's size: the configured burst, or one second's worth of the rate (at least one token). */
export function burstOf(rate: number, burst: number | null): number {
  return burst ?? Math.max(1, Math.ceil(rate));
}
