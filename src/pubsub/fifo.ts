/**
 * A first-in first-out queue on a ring buffer that doubles when full: O(1) push, shift and unshift, indexed reads
 * from the head, and no array copying on the delivery path (an array's `shift`/`splice` moves every element).
 */
export class Fifo<T> {
  #items: Array<T | undefined>;
  #head = 0;
  #size = 0;

  constructor(capacity = 16) {
    this.#items = new Array<T | undefined>(Math.max(2, capacity));
  }

  /** Items queued. */
  get size(): number {
    return this.#size;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) % this.#items.length] = item;
    this.#size++;
  }

  /** Puts an item back at the head. */
  unshift(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#head = (this.#head - 1 + this.#items.length) % this.#items.length;
    this.#items[this.#head] = item;
    this.#size++;
  }

  /** Removes and returns the head. */
  shift(): T | undefined {
    if (!this.#size) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }

  /** The item `index` places behind the head, without removing it. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#head + index) % this.#items.length];
  }

  /** The last item, without removing it. */
  last(): T | undefined {
    return this.at(this.#size - 1);
  }

  /** Keeps only the items `keep` accepts, in order; returns how many were removed. O(n): not for every batch. */
  retain(keep: (item: T) => boolean): number {
    const kept: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const item = this.at(i)!;
      if (keep(item)) kept.push(item);
    }
    const removed = this.#size - kept.length;
    if (removed) this.#refill(kept);
    return removed;
  }

  /** Every item, head first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.at(i)!);
    return out;
  }

  /** Empties the queue. */
  clear(): void {
    this.#items = new Array<T | undefined>(16);
    this.#head = 0;
    this.#size = 0;
  }

  #refill(items: T[]): void {
    this.#items = new Array<T | undefined>(Math.max(16, items.length * 2));
    for (let i = 0; i < items.length; i++) this.#items[i] = items[i];
    this.#head = 0;
    this.#size = items.length;
  }

  #grow(): void {
    this.#refill(this.toArray());
  }
}
