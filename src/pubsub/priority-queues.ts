import { Fifo } from './fifo.js';

/** What a queued item needs for its place: priority 1–9 (9 goes first), then publication order `seq`. */
export interface Ordered {
  readonly priority: number;
  readonly seq: number;
}

const LEVELS = 9;

/**
 * Items in delivery order (priority, highest first, then `seq`) as nine FIFO queues, one per priority: publications
 * arrive in `seq` order, so a push is an append and nothing is ever sorted. `key` reads an item's place.
 */
export class PriorityQueues<T> {
  readonly #levels: Array<Fifo<T>> = Array.from({ length: LEVELS }, () => new Fifo<T>());
  readonly #key: (item: T) => Ordered;
  #size = 0;

  constructor(key: (item: T) => Ordered) {
    this.#key = key;
  }

  /** Items queued, at every priority. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues an item behind the others of its priority. One that is older (lower `seq`) than its level's tail, which
   * only a put-back produces, is inserted in its place instead.
   */
  push(item: T): void {
    const level = this.#level(item);
    const last = level.last();
    this.#size++;
    if (last === undefined || this.#key(last).seq <= this.#key(item).seq) level.push(item);
    else this.#insert(level, item);
  }

  /**
   * Puts items back in their places (they were taken from the head and are coming again); O(1) each when older than
   * every item left at their priority, as put-backs of delivered messages are.
   */
  putBack(items: readonly T[]): void {
    const sorted = [...items].sort((a, b) => this.#key(b).seq - this.#key(a).seq);
    for (const item of sorted) {
      const level = this.#level(item);
      const head = level.at(0);
      this.#size++;
      if (head === undefined || this.#key(item).seq <= this.#key(head).seq) level.unshift(item);
      else this.#insert(level, item);
    }
  }

  /** Up to `n` items from the head in delivery order, left in place. */
  peek(n: number): T[] {
    const out: T[] = [];
    for (let p = LEVELS - 1; p >= 0 && out.length < n; p--) {
      const level = this.#levels[p]!;
      for (let i = 0; i < level.size && out.length < n; i++) out.push(level.at(i)!);
    }
    return out;
  }

  /** Removes the first `n` items in delivery order (those `peek(n)` returned). */
  shift(n: number): void {
    for (let p = LEVELS - 1; p >= 0 && n > 0; p--) {
      const level = this.#levels[p]!;
      while (n > 0 && level.size) {
        level.shift();
        this.#size--;
        n--;
      }
    }
  }

  /**
   * Removes these items, each expected at the head of its priority (taken from there while newer ones may have
   * been queued behind or above them): O(1) each; any found elsewhere are removed by one walk.
   */
  removeHeads(items: readonly T[]): void {
    const elsewhere = new Set<T>();
    for (const item of items) {
      const level = this.#level(item);
      if (level.at(0) !== item) {
        elsewhere.add(item);
        continue;
      }
      level.shift();
      this.#size--;
    }
    if (elsewhere.size) this.retain((x) => !elsewhere.has(x));
  }

  /** Keeps only the items `keep` accepts; returns how many were removed. O(n): callers run it only when needed. */
  retain(keep: (item: T) => boolean): number {
    let removed = 0;
    for (const level of this.#levels) removed += level.retain(keep);
    this.#size -= removed;
    return removed;
  }

  /** Every item, in delivery order. */
  toArray(): T[] {
    return this.peek(this.#size);
  }

  /** Empties every level. */
  clear(): void {
    for (const level of this.#levels) level.clear();
    this.#size = 0;
  }

  #level(item: T): Fifo<T> {
    const p = Math.min(LEVELS, Math.max(1, Math.trunc(this.#key(item).priority)));
    return this.#levels[p - 1]!;
  }

  // Out of order (rare): the level is rebuilt with the item in its place.
  #insert(level: Fifo<T>, item: T): void {
    const items = level.toArray();
    const seq = this.#key(item).seq;
    let at = items.findIndex((x) => this.#key(x).seq > seq);
    if (at < 0) at = items.length;
    items.splice(at, 0, item);
    level.clear();
    for (const x of items) level.push(x);
  }
}
