import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type {
  Deleted,
  Expired,
  PubSubMessage,
  PubSubRepository,
  QueuedGdMessage,
  StoredSubscription,
  StoredTotals,
  SubscriptionRecord,
  SubscriptionState,
} from '../pubsub-repository.js';
import { GroupCommit } from '../group-commit.js';
import { add, fromRow, none, toStored } from '../pubsub-rows.js';
import {
  chunks,
  deleteExpiredRows,
  deleteQueue,
  deleteQueued,
  insertPublications,
  markSent,
  type Publication,
} from './pubsub-writes.js';

/**
 * Pub/sub persistence in PostgreSQL. Every write goes through one group-commit queue (one pooled connection per
 * round, so reads run beside it); a round's publications are two statements whatever their number. `pg` returns
 * `bigint`, `count` and `sum` as strings: every number handed out goes through `Number`.
 */
export class PostgresPubSubRepository<S extends SubscriptionRecord = SubscriptionRecord> implements PubSubRepository<S> {
  readonly #db: Kysely<Database>;
  readonly #writes: GroupCommit<Publication>;

  constructor(store: { readonly db: Kysely<Database> }) {
    this.#db = store.db;
    this.#writes = new GroupCommit<Publication>(store.db, (publications, trx) => insertPublications(trx, publications));
  }

  async maxSeq(): Promise<number> {
    const row = await this.#db
      .selectFrom('pubsub_message')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  async topicTotals(): Promise<Map<string, StoredTotals>> {
    const rows = await this.#db
      .selectFrom('pubsub_message')
      .select(['topic_name', (eb) => eb.fn.countAll<string>().as('n'), (eb) => eb.fn.sum<string>('size').as('bytes')])
      .groupBy('topic_name')
      .execute();
    return new Map(rows.map((r) => [r.topic_name, { count: Number(r.n), bytes: Number(r.bytes ?? 0) }]));
  }

  async queueDepths(): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('pubsub_queue')
      .select(['sub_key', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('sub_key')
      .execute();
    return new Map(rows.map((r) => [r.sub_key, Number(r.n)]));
  }

  publish(messages: readonly PubSubMessage[], subKeys: readonly string[]): Promise<void> {
    return this.#writes.add({ messages, subKeys });
  }

  async nextBatch(subKey: string, limit: number): Promise<QueuedGdMessage[]> {
    const rows = await this.#db
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
    const deleted = none();
    await this.#writes.run(async (trx) => {
      for (const part of chunks(done)) add(deleted, await deleteQueued(trx, subKey, part));
      for (const part of chunks(msgIds)) await markSent(trx, subKey, part);
    });
    return deleted;
  }

  async acknowledge(subKey: string, msgIds: readonly string[]): Promise<Deleted> {
    const deleted = none();
    await this.#writes.run(async (trx) => {
      for (const part of chunks(msgIds)) add(deleted, await deleteQueued(trx, subKey, part));
    });
    return deleted;
  }

  requeue(subKey: string): Promise<void> {
    return this.#writes.run(async (trx) => {
      await trx
        .updateTable('pubsub_queue')
        .set({ delivered: 0 })
        .where('sub_key', '=', subKey)
        .where('delivered', '=', 1)
        .execute();
    });
  }

  async dropQueue(subKey: string): Promise<Deleted> {
    const deleted = none();
    await this.#writes.run(async (trx) => {
      add(deleted, await deleteQueue(trx, subKey));
      await trx.deleteFrom('pubsub_subscription').where('sub_key', '=', subKey).execute();
    });
    return deleted;
  }

  async deleteExpired(now: number): Promise<Expired> {
    let expired: Expired = { topics: new Map(), rows: new Map() };
    await this.#writes.run(async (trx) => {
      expired = await deleteExpiredRows(trx, now);
    });
    return expired;
  }

  deleteTopic(topicName: string): Promise<void> {
    return this.#writes.run(async (trx) => {
      await trx.deleteFrom('pubsub_message').where('topic_name', '=', topicName).execute();
    });
  }

  async browse(topicName: string, afterSeq: number, limit: number): Promise<PubSubMessage[]> {
    const rows = await this.#db
      .selectFrom('pubsub_message')
      .selectAll()
      .where('topic_name', '=', topicName)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  // Outside the write queue, as on SQLite: a subscribe answers without waiting for a round.
  async createSubscription(subscription: S): Promise<void> {
    await this.#db
      .insertInto('pubsub_subscription')
      .values({
        sub_key: subscription.subKey,
        topic_name: subscription.topicName,
        body: JSON.stringify(subscription),
        created_at: subscription.createdAt,
      })
      .execute();
  }

  async getSubscription(subKey: string): Promise<StoredSubscription<S> | undefined> {
    const row = await this.#db
      .selectFrom('pubsub_subscription')
      .select(['body', 'suspended', 'dropped', 'detached_at'])
      .where('sub_key', '=', subKey)
      .executeTakeFirst();
    return row && toStored<S>(row);
  }

  async listSubscriptions(): Promise<Array<StoredSubscription<S>>> {
    const rows = await this.#db
      .selectFrom('pubsub_subscription')
      .select(['body', 'suspended', 'dropped', 'detached_at'])
      .orderBy('created_at')
      .execute();
    return rows.map((r) => toStored<S>(r));
  }

  saveState(subKey: string, state: SubscriptionState): Promise<void> {
    return this.#writes.run(async (trx) => {
      await trx
        .updateTable('pubsub_subscription')
        .set({ suspended: state.suspended ? 1 : 0, dropped: state.dropped, detached_at: state.detachedAt })
        .where('sub_key', '=', subKey)
        .execute();
    });
  }

  detach(subKey: string, at: number): Promise<void> {
    return this.#setDetachedAt(subKey, at);
  }

  attach(subKey: string): Promise<void> {
    return this.#setDetachedAt(subKey, null);
  }

  #setDetachedAt(subKey: string, at: number | null): Promise<void> {
    return this.#writes.run(async (trx) => {
      await trx.updateTable('pubsub_subscription').set({ detached_at: at }).where('sub_key', '=', subKey).execute();
    });
  }

  drain(): Promise<void> {
    return this.#writes.run(async () => undefined);
  }
}
