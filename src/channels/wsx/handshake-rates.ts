import { TokenBucket, burstOf } from './token-bucket.js';

/** Addresses a channel keeps a handshake bucket for, at most: an attacker with many addresses cannot grow it further. */
export const MAX_HANDSHAKE_BUCKETS = 10_000;
/** Idle buckets dropped per sweep tick at most (the sweep runs at least once a second). */
const PRUNE_PER_SWEEP = 1000;

/**
 * One channel's handshake rate per client IP address (`handshakeRate` / `handshakeBurst`). The table is bounded:
 * a bucket that has refilled is the same as none and is dropped by `prune`, and past `max` entries the one used
 * longest ago is evicted (that address starts again with a full bucket: failing open for one address rather than
 * refusing every new address while the table is full).
 */
export class HandshakeRates {
  // Insertion order is last-use order: a bucket is re-inserted on every take.
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(readonly max: number = MAX_HANDSHAKE_BUCKETS) {}

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a handshake for `ip` at `now` (ms): 0 when allowed, else the seconds to wait (for `Retry-After`). */
  take(ip: string, now: number, rate: number, burst: number | null): number {
    const size = burstOf(rate, burst);
    let bucket = this.#buckets.get(ip);
    if (bucket) this.#buckets.delete(ip);
    else {
      bucket = new TokenBucket(now, size);
      if (this.#buckets.size >= this.max) this.#evictOldest();
    }
    this.#buckets.set(ip, bucket);
    return bucket.take(now, rate, size) ? 0 : bucket.secondsToNext(rate);
  }

  /** Drops buckets that have refilled, oldest first, stopping at the first that has not (bounded work per call). */
  prune(now: number, rate: number | null, burst: number | null): void {
    if (rate === null) return this.#buckets.clear();
    const size = burstOf(rate, burst);
    let checked = 0;
    for (const [ip, bucket] of this.#buckets) {
      if (++checked > PRUNE_PER_SWEEP || !bucket.isFull(now, rate, size)) return;
      this.#buckets.delete(ip);
    }
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) this.#buckets.delete(oldest.value);
  }
}
