import type { StoredTotals } from '../store/index.js';

/**
 * Per-topic counters kept in memory (read by the admin API and `/metrics` for every topic, so never queried): the
 * stored GD messages and their bytes, and since start the messages dropped for subscribers, expired, and the time
 * of the last publication.
 */
export class TopicDepths {
  readonly #gd = new Map<string, number>();
  readonly #bytes = new Map<string, number>();
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

  /** GD messages stored for a topic. */
  gd(topic: string): number {
    return this.#gd.get(topic) ?? 0;
  }

  /** Data bytes of a topic's stored GD messages. */
  gdBytes(topic: string): number {
    return this.#bytes.get(topic) ?? 0;
  }

  /** Counts a GD message of `bytes` as stored (before its commit, so that concurrent publishers see it). */
  add(topic: string, bytes: number): void {
    this.#gd.set(topic, this.gd(topic) + 1);
    this.#bytes.set(topic, this.gdBytes(topic) + bytes);
  }

  /** Stored GD messages of a topic were deleted (or not committed after all); never below zero. */
  subtract(topic: string, count: number, bytes: number): void {
    if (count) this.#gd.set(topic, Math.max(0, this.gd(topic) - count));
    if (bytes) this.#bytes.set(topic, Math.max(0, this.gdBytes(topic) - bytes));
  }

  /** The topic and its messages are gone. */
  forget(topic: string): void {
    this.#gd.delete(topic);
    this.#bytes.delete(topic);
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
