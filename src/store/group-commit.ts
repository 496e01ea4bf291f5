import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { commitOutcomeUnknown, isConflict, isStoreUnavailable, toStoreError } from './store-errors.js';

/** Attempts after the first that a round gets when its transaction was rolled back for a transient cause. */
const ROUND_RETRIES = 3;

/** A write that runs inside the round's transaction. */
export type WriteOp = (trx: Transaction<Database>) => Promise<void>;

/**
 * Writes a round's items of the hot write inside its transaction: synchronously on SQLite (prepared statements on
 * the one connection), with a few statements on `trx` on PostgreSQL. `last`: nothing else of the round follows but
 * `endRound`, so the writer may do `endRound`'s work in its own statement (one round trip fewer per round).
 */
export type WriteItems<T> = (items: readonly T[], trx: Transaction<Database>, last: boolean) => void | Promise<void>;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface PendingOp extends Waiter {
  readonly run: WriteOp;
}

interface PendingItem<T> extends Waiter {
  readonly item: T;
}

/**
 * One write queue per database, committed in rounds: the writes that arrive while a commit runs share the next
 * transaction (one fsync for many writers), and each resolves only once its transaction committed. Items of the
 * hottest write (`T`, a publication) go first in a round, written by `writeItems`, so no other write of the
 * round can refer to a row the round has not written yet. Dialect-neutral: SQLite and PostgreSQL share it.
 */
export class GroupCommit<T> {
  readonly #db: Kysely<Database>;
  readonly #writeItems: WriteItems<T>;
  readonly #endRound: WriteOp | undefined;
  #ops: PendingOp[] = [];
  #items: Array<PendingItem<T>> = [];
  #flushing: Promise<void> | undefined;

  /** `endRound`, when given, runs last in every round's transaction (e.g. counters the round's writes changed). */
  constructor(db: Kysely<Database>, writeItems: WriteItems<T>, endRound?: WriteOp) {
    this.#db = db;
    this.#writeItems = writeItems;
    this.#endRound = endRound;
  }

  /** Queues an item of the hot write; resolves once committed. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#items.push({ item, resolve, reject });
      this.#start();
    });
  }

  /** Queues any other write; resolves once committed. */
  run(op: WriteOp): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ops.push({ run: op, resolve, reject });
      this.#start();
    });
  }

  #start(): void {
    if (!this.#flushing) this.#flushing = this.#flush();
  }

  // One transaction per round: everything queued while the previous commit ran goes in the next one.
  async #flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    while (this.#ops.length || this.#items.length) {
      const ops = this.#ops;
      const items = this.#items;
      this.#ops = [];
      this.#items = [];
      const waiters: Waiter[] = [...items, ...ops];
      try {
        await this.#commitRound(items, ops);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.#flushing = undefined;
  }

  /**
   * Runs a round's transaction, again up to `ROUND_RETRIES` times when it was rolled back for a transient cause —
   * a deadlock (40P01), a serialization failure (40001), or a connection lost before COMMIT (the server rolls back a
   * session's open transaction when the session ends) — as nobody has been answered yet. Each attempt runs every
   * write from the start, on a connection the pool hands out fresh. A connection lost DURING COMMIT is different:
   * PostgreSQL may have committed before the answer was lost, so running the round again could store it twice.
   * The round fails with `store_unavailable` saying the outcome is unknown: the publisher retries if it wants to,
   * which may duplicate a message but never loses an acknowledged one (acknowledged = committed, unchanged); a
   * message that did commit is in its subscriptions' stored queues like any other and is delivered from there.
   */
  async #commitRound(items: ReadonlyArray<PendingItem<T>>, ops: readonly PendingOp[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const round = { committing: false };
      try {
        await this.#db.transaction().execute(async (trx) => {
          if (items.length)
            await this.#writeItems(
              items.map((p) => p.item),
              trx,
              ops.length === 0,
            );
          for (const op of ops) await op.run(trx);
          if (this.#endRound) await this.#endRound(trx);
          round.committing = true;
        });
        return;
      } catch (err) {
        const mapped = toStoreError(err);
        if (round.committing && isStoreUnavailable(mapped)) throw commitOutcomeUnknown(mapped);
        if (attempt >= ROUND_RETRIES || !retryable(mapped)) throw mapped;
      }
    }
  }
}

// A locked SQLite file already waited out its busy timeout (blocking): another attempt would only block again.
function retryable(err: unknown): boolean {
  if (isConflict(err)) return true;
  if (!isStoreUnavailable(err)) return false;
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return !(typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
}
