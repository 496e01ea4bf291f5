import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import {
  SEQ_BLOCK,
  type Deleted,
  type Expired,
  type PubSubRepository,
  type SeqBlock,
  type SubscriptionRecord,
} from '../pubsub-repository.js';
import { KyselyPubSubRepository, type Publication } from '../pubsub-repository-base.js';
import { add, none } from '../pubsub-rows.js';
import { PostgresPubSubCluster } from './pubsub-cluster.js';
import { DepthDeltas } from './pubsub-depths.js';
import { DeliveryMarks } from './pubsub-marks.js';
import { deleteExpiredRows, deleteQueue, insertPublications, stillOwned } from './pubsub-writes.js';

/**
 * Pub/sub persistence in PostgreSQL. Every write goes through one group-commit queue (one pooled connection per
 * round, so reads run beside it); a round's publications are two statements whatever their number. `pg` returns
 * `bigint`, `count` and `sum` as strings: every number handed out goes through `Number`.
 */
export class PostgresPubSubRepository<S extends SubscriptionRecord = SubscriptionRecord>
  extends KyselyPubSubRepository<S>
  implements PubSubRepository<S>
{
  readonly cluster: PostgresPubSubCluster<S>;
  readonly #depths = new DepthDeltas();
  readonly #marks: DeliveryMarks;

  constructor(store: { readonly db: Kysely<Database> }) {
    // Rounds of publications overlap: each upserts its topics' depth rows, so one topic's rounds commit in order.
    super(store.db, true);
    this.cluster = new PostgresPubSubCluster<S>(store.db, this.writes, this.#depths);
    this.#marks = new DeliveryMarks(this.writes, (trx) => this.#depths.recorder(trx));
  }

  protected override roundEnded(trx: Transaction<Database>): Promise<void> {
    return this.#depths.write(trx);
  }

  // One `nextval` is a whole block (the sequence counts in steps of SEQ_BLOCK): servers sharing the database never get
  // the same numbers. Outside the write queue, and never rolled back, so a block is never handed out twice.
  async reserveSeqBlock(): Promise<SeqBlock> {
    const { rows } = await sql<{ first: number }>`select nextval('pubsub_seq') as first`.execute(this.db);
    const first = rows[0]?.first;
    if (first === undefined) throw new Error('nextval returned no row');
    return { first: Number(first), size: SEQ_BLOCK };
  }

  // A round of publications alone bumps its depths in the insert's own statement: `roundEnded` then finds nothing.
  protected writePublications(publications: readonly Publication[], trx: Transaction<Database>, last: boolean): Promise<void> {
    return insertPublications(trx, publications, this.#depths.recorder(trx), last ? () => this.#depths.take(trx) : undefined);
  }

  // Marked before the frame is written (see the SQLite repository); the previous frame's removal shares the commit.
  // Every subscription's marks of a round are one op (pubsub-marks.ts).
  markDelivered(subKey: string, msgIds: readonly string[], done: readonly string[], epoch?: number): Promise<Deleted> {
    return this.#marks.write(subKey, msgIds, done, epoch);
  }

  acknowledge(subKey: string, msgIds: readonly string[], epoch?: number): Promise<Deleted> {
    return this.#marks.write(subKey, [], msgIds, epoch);
  }

  async requeue(subKey: string, epoch?: number): Promise<boolean> {
    let owned = true;
    await this.writes.run(async (trx) => {
      owned = await stillOwned(trx, subKey, epoch);
      if (!owned) return;
      await trx
        .updateTable('pubsub_queue')
        .set({ delivered: 0 })
        .where('sub_key', '=', subKey)
        .where('delivered', '=', 1)
        .execute();
    });
    return owned;
  }

  async dropQueue(subKey: string, epoch?: number): Promise<Deleted> {
    let deleted = none();
    await this.writes.run(async (trx) => {
      deleted = none(); // a round retried (group-commit.ts) runs this again from the start
      if (!(await stillOwned(trx, subKey, epoch))) {
        deleted.moved = true;
        return;
      }
      add(deleted, await deleteQueue(trx, subKey, this.#depths.recorder(trx)));
      await trx.deleteFrom('pubsub_subscription').where('sub_key', '=', subKey).execute();
    });
    return deleted;
  }

  async deleteExpired(now: number): Promise<Expired> {
    let expired: Expired = { topics: new Map(), rows: new Map() };
    await this.writes.run(async (trx) => {
      expired = await deleteExpiredRows(trx, now, this.#depths.recorder(trx));
    });
    return expired;
  }

  override deleteTopic(topicName: string): Promise<void> {
    return this.writes.run(async (trx) => {
      await trx.deleteFrom('pubsub_message').where('topic_name', '=', topicName).execute();
      await trx.deleteFrom('pubsub_topic_depth').where('topic_name', '=', topicName).execute();
    });
  }
}
