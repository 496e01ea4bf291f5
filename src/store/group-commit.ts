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
 * The fewest items a round of items alone needs for the next round to overlap it. Few items mean few writers, each
 * waiting for its answer: overlapping would only split them over more transactions (measured: slower at one
 * publish in flight per publisher, faster at 16; docs/benchmarks.md).
 */
const OVERLAP_MIN_ITEMS = 32;

/** How a `GroupCommit` runs its rounds. */
export interface GroupCommitOptions {
  /** Runs last in every round's transaction (e.g. counters the round's writes changed). */
  readonly endRound?: WriteOp | undefined;
  /**
   * Whether a round of items alone may start while the previous round of items alone (of at least
   * `OVERLAP_MIN_ITEMS`) is in its COMMIT (PostgreSQL,
   * a pool of connections; never SQLite's one connection). The writer must keep the order itself: on PostgreSQL
   * every round of publications upserts its topics' depth rows, so a later round on a topic waits for that row's
   * lock, held by the earlier round until its COMMIT ends.
   */
  readonly overlap?: boolean;
}

/**
 * One write queue per database, committed in rounds: the writes that arrive while a commit runs share the next
 * transaction (one fsync for many writers), and each resolves only once its transaction committed. Items of the
 * hottest write (`T`, a publication) go first in a round, written by `writeItems`, so no other write of the
 * round can refer to a row the round has not written yet. Dialect-neutral: SQLite and PostgreSQL share it.
 * With `overlap`, a round of items alone starts as soon as the previous such round is committing: at most one
 * round is before its COMMIT, and rounds are answered in their order, each once its own COMMIT succeeded. A round
 * with any other write waits for every earlier round to end, and the next round waits for it (its writes, such
 * as deleting a subscription's queue, must see what the earlier rounds committed).
 */
export class GroupCommit<T> {
  readonly #db: Kysely<Database>;
  readonly #writeItems: WriteItems<T>;
  readonly #endRound: WriteOp | undefined;
  readonly #overlap: boolean;
  #ops: PendingOp[] = [];
  #items: Array<PendingItem<T>> = [];
  #flushing: Promise<void> | undefined;
  // Settles once every round started so far has answered its writers.
  #answered: Promise<void> = Promise.resolve();
  // Whether the last round started may be overlapped by the next (it had enough items and nothing else).
  #overlappable = false;

  constructor(db: Kysely<Database>, writeItems: WriteItems<T>, options: GroupCommitOptions = {}) {
    this.#db = db;
    this.#writeItems = writeItems;
    this.#endRound = options.endRound;
    this.#overlap = options.overlap ?? false;
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

  // One transaction per round: everything queued while the previous round ran (or, overlapping, while the previous
  // round ran up to its COMMIT) goes in the next one.
  async #flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    while (this.#ops.length || this.#items.length) {
      const ops = this.#ops;
      const items = this.#items;
      this.#ops = [];
      this.#items = [];
      const overlaps = this.#overlap && !ops.length && this.#overlappable;
      if (!overlaps) await this.#answered;
      this.#overlappable = !ops.length && items.length >= OVERLAP_MIN_ITEMS;
      let committing!: () => void;
      const reachedCommit = new Promise<void>((r) => (committing = r));
      const outcome = this.#commitRound(items, ops, committing).then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
      const earlier = this.#answered;
      const answered = this.#answer([...items, ...ops], outcome, earlier);
      this.#answered = answered;
      await Promise.race([reachedCommit, answered]);
      if (!this.#overlap) await answered;
    }
    this.#flushing = undefined;
  }

  // Writers learn their round's outcome only after every earlier round's writers learnt theirs: replies keep order.
  async #answer(
    waiters: readonly Waiter[],
    outcome: Promise<{ err: unknown } | undefined>,
    earlier: Promise<void>,
  ): Promise<void> {
    const failed = await outcome;
    await earlier;
    for (const w of waiters) {
      if (failed) w.reject(failed.err);
      else w.resolve();
    }
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
  async #commitRound(items: ReadonlyArray<PendingItem<T>>, ops: readonly PendingOp[], committing: () => void): Promise<void> {
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
          committing();
        });
        return;
      } catch (err) {
        const mapped = toStoreError(err);
        if (round.committing && isStoreUnavailable(mapped)) throw commitOutcomeUnknown(mapped);
        // The next round may have started meanwhile: running this one again would commit it after that one.
        if (round.committing && this.#overlap) throw mapped;
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
