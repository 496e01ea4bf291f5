import { isStoreUnavailable, toStoreError } from './store-errors.js';

/** The database's reachability as the last query found it: what `/api/health` reports, at no cost of its own. */
export class StoreHealth {
  #reachable = true;

  /** False since a query found the database out of reach, until one succeeds again. */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** A query answered. */
  succeeded(): void {
    this.#reachable = true;
  }

  /** `err` as callers should see it (see `toStoreError`); notes an unreachable database. */
  failed(err: unknown): unknown {
    const mapped = toStoreError(err);
    if (isStoreUnavailable(mapped)) this.#reachable = false;
    return mapped;
  }
}
