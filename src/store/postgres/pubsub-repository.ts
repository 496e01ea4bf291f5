import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import {
  SEQ_BLOCK,
  type Deleted,
  type Expired,
  type PubSubRepository,
  type QueuedGdMessage,
  type SeqBlock,
  type SubscriptionRecord,
} from '../pubsub-repository.js';
import { KyselyPubSubRepository, type Publication } from '../pubsub-repository-base.js';
import { add, fromRow, none } from '../pubsub-rows.js';
import { chunks, deleteExpiredRows, deleteQueue, deleteQueued, insertPublications, markSent } from './pubsub-writes.js';

/**
 * Pub/sub persistence in PostgreSQL. Every write goes through one group-commit queue (one pooled connection per
 * round, so reads run beside it); a round's publications are two statements whatever their number. `pg` returns
 * `bigint`, `count` and `sum` as strings: every number handed out goes through `Number`.
 */
export class PostgresPubSubRepository<S extends SubscriptionRecord = SubscriptionRecord>
  extends KyselyPubSubRepository<S>
  implements PubSubRepository<S>
{
  constructor(store: { readonly db: Kysely<Database> }) {
    super(store.db);
  }

  // One `nextval` is a whole block (the sequence counts in steps of SEQ_BLOCK): servers sharing the database never get
  // the same numbers. Outside the write queue, and never rolled back, so a block is never handed out twice.
  async reserveSeqBlock(): Promise<SeqBlock> {
    const { rows } = await sql<{ first: number }>`select nextval('pubsub_seq') as first`.execute(this.db);
    const first = rows[0]?.first;
    if (first === undefined) throw new Error('nextval returned no row');
    return { first: Number(first), size: SEQ_BLOCK };
  }

  protected writePublications(publications: readonly Publication[], trx: Transaction<Database>): Promise<void> {
    return insertPublications(trx, publications);
  }

  async nextBatch(subKey: string, limit: number): Promise<QueuedGdMessage[]> {
    const rows = await this.db
      .selectFrom('pubsub_queue as q')
      .innerJoin('pubsub_message as m', 'm.msg_id', 'q.msg_id')
      .selectAll('m')
      .select('q.delivery_count')
      .where('q.sub_key', '=', subKey)
      .where('q.delivered', '=', 0)
      .orderBy('q.priority', 'desc')
      .orderBy('q.seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ message: fromRow(r), deliveryCount: Number(r.delivery_count) }));
  }

  // Marked before the frame is written (see the SQLite repository); the previous frame's removal shares the commit.
  async markDelivered(subKey: string, msgIds: readonly string[], done: readonly string[]): Promise<Deleted> {
    let deleted = none();
    await this.writes.run(async (trx) => {
      deleted = none(); // a round retried (group-commit.ts) runs this again from the start
      for (const part of chunks(done)) add(deleted, await deleteQueued(trx, subKey, part));
      for (const part of chunks(msgIds)) await markSent(trx, subKey, part);
    });
    return deleted;
  }

  async acknowledge(subKey: string, msgIds: readonly string[]): Promise<Deleted> {
    let deleted = none();
    await this.writes.run(async (trx) => {
      deleted = none(); // a round retried (group-commit.ts) runs this again from the start
      for (const part of chunks(msgIds)) add(deleted, await deleteQueued(trx, subKey, part));
    });
    return deleted;
  }

  requeue(subKey: string): Promise<void> {
    return this.writes.run(async (trx) => {
      await trx
        .updateTable('pubsub_queue')
        .set({ delivered: 0 })
        .where('sub_key', '=', subKey)
        .where('delivered', '=', 1)
        .execute();
    });
  }

  async dropQueue(subKey: string): Promise<Deleted> {
    let deleted = none();
    await this.writes.run(async (trx) => {
      deleted = none(); // a round retried (group-commit.ts) runs this again from the start
      add(deleted, await deleteQueue(trx, subKey));
      await trx.deleteFrom('pubsub_subscription').where('sub_key', '=', subKey).execute();
    });
    return deleted;
  }

  async deleteExpired(now: number): Promise<Expired> {
    let expired: Expired = { topics: new Map(), rows: new Map() };
    await this.writes.run(async (trx) => {
      expired = await deleteExpiredRows(trx, now);
    });
    return expired;
  }
}
