import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import type {
  PubSubMessage,
  QueuedGdMessage,
  StoredSubscription,
  StoredTotals,
  SubscriptionRecord,
  SubscriptionState,
} from './pubsub-repository.js';
import { GroupCommit } from './group-commit.js';
import { fromRow, toStored } from './pubsub-rows.js';

/** A round's GD publications: the messages and the subscriptions they are queued for. */
export interface Publication {
  readonly messages: readonly PubSubMessage[];
  readonly subKeys: readonly string[];
  /** A cluster's publication: also queued for the topic's other servers' subscriptions (see `publish`). */
  readonly others?: { readonly exclude: readonly string[] } | undefined;
}

/**
 * What the SQLite and PostgreSQL pub/sub repositories run alike, in plain Kysely: start-up totals, browsing and the
 * subscription rows, every write through the one group-commit queue. Each database writes a round's publications
 * its own way (`writePublications`) and has its own batch, ack and expiry statements.
 */
export abstract class KyselyPubSubRepository<S extends SubscriptionRecord> {
  protected readonly db: Kysely<Database>;
  protected readonly writes: GroupCommit<Publication>;

  /** `overlap`: see `GroupCommitOptions` (PostgreSQL's pool; never SQLite's one connection). */
  constructor(db: Kysely<Database>, overlap = false) {
    this.db = db;
    this.writes = new GroupCommit<Publication>(db, (publications, trx, last) => this.writePublications(publications, trx, last), {
      endRound: this.roundEnded?.bind(this),
      overlap,
    });
  }

  /** Writes a round's publications inside its transaction; `last` as in `WriteItems`. */
  protected abstract writePublications(
    publications: readonly Publication[],
    trx: Transaction<Database>,
    last: boolean,
  ): void | Promise<void>;

  /** Runs last in every round's transaction, when a database needs it (PostgreSQL: the round's topic depths). */
  protected roundEnded?(trx: Transaction<Database>): Promise<void>;

  async topicTotals(): Promise<Map<string, StoredTotals>> {
    const rows = await this.db
      .selectFrom('pubsub_message')
      .select([
        'topic_name',
        (eb) => eb.fn.countAll<number | string>().as('n'),
        (eb) => eb.fn.sum<number | string>('size').as('bytes'),
      ])
      .groupBy('topic_name')
      .execute();
    return new Map(rows.map((r) => [r.topic_name, { count: Number(r.n), bytes: Number(r.bytes ?? 0) }]));
  }

  async queueDepths(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('pubsub_queue')
      .select(['sub_key', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('sub_key')
      .execute();
    return new Map(rows.map((r) => [r.sub_key, Number(r.n)]));
  }

  publish(
    messages: readonly PubSubMessage[],
    subKeys: readonly string[],
    others?: { readonly exclude: readonly string[] },
  ): Promise<void> {
    return this.writes.add({ messages, subKeys, others });
  }

  deleteTopic(topicName: string): Promise<void> {
    return this.writes.run(async (trx) => {
      await trx.deleteFrom('pubsub_message').where('topic_name', '=', topicName).execute();
    });
  }

  /** The next undelivered messages of a subscription, by priority (highest first), then `seq`. */
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

  async browse(topicName: string, afterSeq: number, limit: number): Promise<PubSubMessage[]> {
    const rows = await this.db
      .selectFrom('pubsub_message')
      .selectAll()
      .where('topic_name', '=', topicName)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  // Outside the write queue: a subscribe answers without waiting for a round.
  async createSubscription(subscription: S): Promise<void> {
    await this.db
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
    const row = await this.db
      .selectFrom('pubsub_subscription')
      .select(['body', 'suspended', 'dropped', 'detached_at'])
      .where('sub_key', '=', subKey)
      .executeTakeFirst();
    return row && toStored<S>(row);
  }

  async listSubscriptions(): Promise<Array<StoredSubscription<S>>> {
    const rows = await this.db
      .selectFrom('pubsub_subscription')
      .select(['body', 'suspended', 'dropped', 'detached_at'])
      .orderBy('created_at')
      .execute();
    return rows.map((r) => toStored<S>(r));
  }

  saveState(subKey: string, state: SubscriptionState): Promise<void> {
    return this.writes.run(async (trx) => {
      await trx
        .updateTable('pubsub_subscription')
        .set({ suspended: state.suspended ? 1 : 0, dropped: state.dropped, detached_at: state.detachedAt })
        .where('sub_key', '=', subKey)
        .execute();
    });
  }

  detach(subKey: string, at: number): Promise<void> {
    return this.setDetachedAt(subKey, at);
  }

  attach(subKey: string): Promise<void> {
    return this.setDetachedAt(subKey, null);
  }

  private setDetachedAt(subKey: string, at: number | null): Promise<void> {
    return this.writes.run(async (trx) => {
      await trx.updateTable('pubsub_subscription').set({ detached_at: at }).where('sub_key', '=', subKey).execute();
    });
  }

  drain(): Promise<void> {
    return this.writes.run(async () => undefined);
  }
}
