import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A write that runs inside the round's transaction. */
export type WriteOp = (trx: Transaction<Database>) => Promise<void>;

/**
 * Writes a round's items of the hot write inside its transaction: synchronously on SQLite (prepared statements on
 * the one connection), with a few statements on `trx` on PostgreSQL.
 */
export type WriteItems<T> = (items: readonly T[], trx: Transaction<Database>) => void | Promise<void>;

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
        await this.#db.transaction().execute(async (trx) => {
          if (items.length)
            await this.#writeItems(
              items.map((p) => p.item),
              trx,
            );
          for (const op of ops) await op.run(trx);
          if (this.#endRound) await this.#endRound(trx);
        });
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.#flushing = undefined;
  }
}
