/**
 * A bounded window of recently seen ids (pub/sub `msg_id`s), oldest forgotten first: how a subscriber recognises a
 * redelivery of a message it already handled. The same on the outgoing side and in the client library; browser-safe.
 */
export class RecentIds {
  readonly #ids = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** True when `id` is in the window. */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Records `id`; false when it was already there (a redelivery). */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#max) this.#ids.delete(this.#ids.values().next().value as string);
    return true;
  }

  /** Forgets `id` (its handling failed: the redelivery must be handled). */
  delete(id: string): void {
    this.#ids.delete(id);
  }
}
