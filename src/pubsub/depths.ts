import type { StoredTotals } from '../store/index.js';

/**
 * Per-topic counters kept in memory (read by the admin API and `/metrics` for every topic, so never queried): the
 * stored GD messages and their bytes, and since start the messages dropped for subscribers, expired, and the time
 * of the last publication.
 */
export class TopicDepths {
  readonly #gd = new Map<string, number>();
  readonly #bytes = new Map<string, number>();
  // Admitted and not yet committed: counted in the depth, but not in what a read of the store returns.
  readonly #pending = new Map<string, StoredTotals>();
  // Raised by every local change, so that a store read that a change overtook is not applied over it.
  readonly #versions = new Map<string, number>();
  readonly #dropped = new Map<string, number>();
  readonly #expired = new Map<string, number>();
  readonly #lastPublished = new Map<string, number>();

  /** Sets the stored totals read from the store at start. */
  load(totals: ReadonlyMap<string, StoredTotals>): void {
    for (const [topic, t] of totals) {
      this.#gd.set(topic, t.count);
      this.#bytes.set(topic, t.bytes);
    }
  }

  /** GD messages stored for a topic (and being committed). */
  gd(topic: string): number {
    return (this.#gd.get(topic) ?? 0) + (this.#pending.get(topic)?.count ?? 0);
  }

  /** Data bytes of a topic's stored GD messages (and of those being committed). */
  gdBytes(topic: string): number {
    return (this.#bytes.get(topic) ?? 0) + (this.#pending.get(topic)?.bytes ?? 0);
  }

  /** Counts a GD message of `bytes` before its commit, so that concurrent publishers see it. */
  add(topic: string, bytes: number): void {
    this.#movePending(topic, 1, bytes);
  }

  /** A message counted by `add` committed. */
  committed(topic: string, bytes: number): void {
    this.#movePending(topic, -1, -bytes);
    this.#gd.set(topic, (this.#gd.get(topic) ?? 0) + 1);
    this.#bytes.set(topic, (this.#bytes.get(topic) ?? 0) + bytes);
  }

  /** A message counted by `add` was not committed after all. */
  cancelled(topic: string, bytes: number): void {
    this.#movePending(topic, -1, -bytes);
  }

  /** Stored GD messages of a topic were deleted (those being committed last); never below zero. */
  subtract(topic: string, count: number, bytes: number): void {
    this.#bump(topic);
    const stored = { count: this.#gd.get(topic) ?? 0, bytes: this.#bytes.get(topic) ?? 0 };
    this.#gd.set(topic, Math.max(0, stored.count - count));
    this.#bytes.set(topic, Math.max(0, stored.bytes - bytes));
    const rest = { count: Math.max(0, count - stored.count), bytes: Math.max(0, bytes - stored.bytes) };
    if (rest.count || rest.bytes) this.#movePending(topic, -rest.count, -rest.bytes);
  }

  /** The topic and its messages are gone. */
  forget(topic: string): void {
    this.#bump(topic);
    this.#gd.delete(topic);
    this.#bytes.delete(topic);
    this.#pending.delete(topic);
  }

  /** What `sync` compares with: the local changes so far. */
  versions(): ReadonlyMap<string, number> {
    return new Map(this.#versions);
  }

  /**
   * Sets the stored totals read from the store (in a cluster, what every server stored), except for topics changed
   * here since `before` was taken: the read may predate that change, and the next read brings it.
   */
  sync(totals: ReadonlyMap<string, StoredTotals>, before: ReadonlyMap<string, number>): void {
    const topics = new Set([...totals.keys(), ...this.#gd.keys()]);
    for (const topic of topics) {
      if ((this.#versions.get(topic) ?? 0) !== (before.get(topic) ?? 0)) continue;
      const t = totals.get(topic) ?? { count: 0, bytes: 0 };
      this.#gd.set(topic, t.count);
      this.#bytes.set(topic, t.bytes);
    }
  }

  #movePending(topic: string, count: number, bytes: number): void {
    this.#bump(topic);
    const p = this.#pending.get(topic) ?? { count: 0, bytes: 0 };
    const next = { count: Math.max(0, p.count + count), bytes: Math.max(0, p.bytes + bytes) };
    if (next.count === 0) this.#pending.delete(topic);
    else this.#pending.set(topic, next);
  }

  #bump(topic: string): void {
    this.#versions.set(topic, (this.#versions.get(topic) ?? 0) + 1);
  }

  /** Counts messages dropped for a subscriber of the topic. */
  countDropped(topic: string, n: number): void {
    this.#dropped.set(topic, (this.#dropped.get(topic) ?? 0) + n);
  }

  /** Messages dropped for subscribers since start, per topic. */
  get dropped(): ReadonlyMap<string, number> {
    return this.#dropped;
  }

  /** Counts expired messages of the topic. */
  countExpired(topic: string, n: number): void {
    this.#expired.set(topic, this.expired(topic) + n);
  }

  /** Messages of the topic expired since start. */
  expired(topic: string): number {
    return this.#expired.get(topic) ?? 0;
  }

  /** Records a publication's time (epoch ms). */
  published(topic: string, at: number): void {
    this.#lastPublished.set(topic, at);
  }

  /** When the topic last had a publication (epoch ms), if since start. */
  lastPublished(topic: string): number | undefined {
    return this.#lastPublished.get(topic);
  }
}
