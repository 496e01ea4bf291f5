import type { Kysely, Transaction } from 'kysely';
import type { Database, Store } from '../store/index.js';
import type { PubSubMessage } from './message.js';

/** What a deletion freed: queue rows of the subscription, and messages no subscription needs any more. */
export interface Deleted {
  /** Queue rows deleted (of the one subscription the call was about). */
  rows: number;
  /** Messages deleted from the store. */
  messages: number;
  /** Their data bytes (`size`), for the topic's `maxBytesGd`. */
  bytes: number;
}

/** A topic's stored GD messages: how many, and their data bytes. */
export interface StoredTotals {
  count: number;
  bytes: number;
}

/** The persisted overflow and attachment state of a subscription. */
export interface SubscriptionState {
  suspended: boolean;
  dropped: number;
  detachedAt: number | null;
}

const none = (): Deleted => ({ rows: 0, messages: 0, bytes: 0 });

function add(into: Deleted, more: Deleted): void {
  into.rows += more.rows;
  into.messages += more.messages;
  into.bytes += more.bytes;
}

/** A queued GD message as a delivery task reads it. */
export interface QueuedGdMessage {
  readonly message: PubSubMessage;
  readonly deliveryCount: number;
}

type Op = (trx: Transaction<Database>) => Promise<void>;

interface PendingOp {
  run: Op;
  resolve(): void;
  reject(err: unknown): void;
}

interface Publication {
  readonly messages: readonly PubSubMessage[];
  readonly subKeys: readonly string[];
  resolve(): void;
  reject(err: unknown): void;
}

// Rows per `IN (...)` list: well under SQLite's limit of bound parameters per statement.
const CHUNK = 400;

const INSERT_MESSAGE =
  'insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, correl_id, in_reply_to, ext_client_id, size) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_QUEUED = 'insert into pubsub_queue (sub_key, msg_id, priority, seq, delivery_count) values (?, ?, ?, ?, 0)';

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Guaranteed-delivery persistence. Every write goes through one queue and the writes that arrive while the
 * previous commit runs share the next transaction: concurrent publishers share one fsync ("group commit"),
 * and a publish resolves only after its transaction committed (`synchronous=FULL`).
 */
export class GdStore {
  readonly #db: Kysely<Database>;
  readonly #store: Store;
  #pending: PendingOp[] = [];
  #publications: Publication[] = [];
  #flushing: Promise<void> | undefined;

  constructor(store: Store) {
    this.#db = store.db;
    this.#store = store;
  }

  /** Highest `seq` stored, so a restarted server continues the order. */
  async maxSeq(): Promise<number> {
    const row = await this.#db.selectFrom('pubsub_message').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  /** Number and bytes of stored messages per topic (read once, at start). */
  async depths(): Promise<Map<string, StoredTotals>> {
    const rows = await this.#db
      .selectFrom('pubsub_message')
      .select(['topic_name', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('size').as('bytes')])
      .groupBy('topic_name')
      .execute();
    return new Map(rows.map((r) => [r.topic_name, { count: Number(r.n), bytes: Number(r.bytes ?? 0) }]));
  }

  /** Queue rows per subscription (read once, at start; kept in memory afterwards). */
  async queueDepths(): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('pubsub_queue')
      .select(['sub_key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('sub_key')
      .execute();
    return new Map(rows.map((r) => [r.sub_key, Number(r.n)]));
  }

  /** Persists a subscription's overflow state and when it was detached. */
  saveState(subKey: string, state: SubscriptionState): Promise<void> {
    return this.#enqueue(async (trx) => {
      await trx
        .updateTable('pubsub_subscription')
        .set({ suspended: state.suspended ? 1 : 0, dropped: state.dropped, detached_at: state.detachedAt })
        .where('sub_key', '=', subKey)
        .execute();
    });
  }

  /**
   * Stores messages and queues them for the given subscriptions; resolves once committed. Publications that
   * wait for the same commit are written with one multi-row insert per table.
   */
  publish(messages: readonly PubSubMessage[], subKeys: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#publications.push({ messages, subKeys, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flush();
    });
  }

  // The hottest write of GD publishing: prepared once and run per row, inside the flush's transaction. Building
  // a multi-row insert with Kysely and preparing it anew each round cost more than inserting the rows.
  #writePublications(publications: readonly Publication[]): void {
    const insertMessage = this.#store.prepared(INSERT_MESSAGE);
    const insertQueued = this.#store.prepared(INSERT_QUEUED);
    for (const p of publications) {
      for (const m of p.messages) {
        // Positional, in INSERT_MESSAGE's column order: binding by name looks up every key of an object per row.
        insertMessage.run(m.msgId, m.seq, m.topicName, m.dataJson, m.mimeType, m.priority, m.pubTime, m.expirationTime, m.correlId, m.inReplyTo, m.extClientId, m.size);
        for (const subKey of p.subKeys) insertQueued.run(subKey, m.msgId, m.priority, m.seq);
      }
    }
  }

  /** The next undelivered messages of a subscription, in delivery order. */
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
    return rows.map((r) => ({ message: fromRow(r), deliveryCount: r.delivery_count }));
  }

  /**
   * Records a delivery attempt before its frame is written: the messages are marked as sent and their
   * `delivery_count` raised in the commit that precedes the write, so a message whose frame went out just before a
   * crash comes again with a raised count. The same commit removes `done` (the previous frame's messages, ack
   * mode `write`): one commit per frame, as before.
   */
  async markAttempted(subKey: string, msgIds: readonly string[], done: readonly string[]): Promise<Deleted> {
    const deleted = none();
    await this.#enqueue(async (trx) => {
      for (const part of chunks(done)) add(deleted, await deleteQueued(trx, subKey, part));
      for (const part of chunks(msgIds)) {
        await trx
          .updateTable('pubsub_queue')
          .set((eb) => ({ delivered: 1, delivery_count: eb('delivery_count', '+', 1) }))
          .where('sub_key', '=', subKey)
          .where('msg_id', 'in', part)
          .execute();
      }
    });
    return deleted;
  }

  /**
   * Removes delivered (ack mode `write`) or acknowledged messages from a subscription's queue, and the
   * messages no subscription needs any more.
   */
  async acknowledge(subKey: string, msgIds: readonly string[]): Promise<Deleted> {
    const deleted = none();
    await this.#enqueue(async (trx) => {
      for (const part of chunks(msgIds)) add(deleted, await deleteQueued(trx, subKey, part));
    });
    return deleted;
  }

  /**
   * After a reconnect, a resume or a restart: every message sent and not acknowledged (ack mode `client`), or whose
   * frame may have been written without its removal being committed (ack mode `write`, a crash), is queued again.
   */
  requeueUnacknowledged(subKey: string): Promise<void> {
    return this.#enqueue(async (trx) => {
      await trx.updateTable('pubsub_queue').set({ delivered: 0 }).where('sub_key', '=', subKey).where('delivered', '=', 1).execute();
    });
  }

  /** Drops a subscription's queue (and the subscription's row, in the same commit), freeing what no one needs. */
  async dropQueue(subKey: string): Promise<Deleted> {
    const deleted = none();
    await this.#enqueue(async (trx) => {
      const ids = (await trx.selectFrom('pubsub_queue').select('msg_id').where('sub_key', '=', subKey).execute()).map((r) => r.msg_id);
      for (const part of chunks(ids)) add(deleted, await deleteQueued(trx, subKey, part));
      await trx.deleteFrom('pubsub_subscription').where('sub_key', '=', subKey).execute();
    });
    return deleted;
  }

  /**
   * Deletes expired messages (and their queue entries); resolves with the count and bytes per topic and the queue
   * rows removed per subscription.
   */
  async deleteExpired(now: number): Promise<{ topics: Map<string, StoredTotals>; rows: Map<string, number> }> {
    const topics = new Map<string, StoredTotals>();
    const rowsPerSub = new Map<string, number>();
    await this.#enqueue(async (trx) => {
      const rows = await trx.selectFrom('pubsub_message').select(['msg_id', 'topic_name', 'size']).where('expiration_time', '<=', now).execute();
      for (const part of chunks(rows)) {
        const ids = part.map((r) => r.msg_id);
        const queued = await trx.deleteFrom('pubsub_queue').where('msg_id', 'in', ids).returning('sub_key').execute();
        for (const q of queued) rowsPerSub.set(q.sub_key, (rowsPerSub.get(q.sub_key) ?? 0) + 1);
        await trx.deleteFrom('pubsub_message').where('msg_id', 'in', ids).execute();
      }
      for (const r of rows) {
        const t = topics.get(r.topic_name) ?? { count: 0, bytes: 0 };
        topics.set(r.topic_name, { count: t.count + 1, bytes: t.bytes + Number(r.size) });
      }
    });
    return { topics, rows: rowsPerSub };
  }

  /** Deletes every stored message of a topic (the topic was deleted). */
  deleteTopic(topicName: string): Promise<void> {
    return this.#enqueue(async (trx) => {
      await trx.deleteFrom('pubsub_message').where('topic_name', '=', topicName).execute();
    });
  }

  /** A page of a topic's stored messages, oldest first. */
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

  /** Resolves once every write queued so far has committed. */
  drain(): Promise<void> {
    return this.#enqueue(async () => undefined);
  }

  #enqueue(run: Op): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ run, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#flush();
    });
  }

  // One transaction per round: everything queued while the previous commit ran goes in the next one.
  // Publications go first: no other write can refer to a message that is published in the same round.
  async #flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    while (this.#pending.length || this.#publications.length) {
      const ops = this.#pending;
      const publications = this.#publications;
      this.#pending = [];
      this.#publications = [];
      const waiters = [...publications, ...ops];
      try {
        await this.#db.transaction().execute(async (trx) => {
          this.#writePublications(publications);
          for (const op of ops) await op.run(trx);
        });
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.#flushing = undefined;
  }
}

// One subscription's queue rows, then the messages no other subscription still needs (index pubsub_queue_msg).
async function deleteQueued(trx: Transaction<Database>, subKey: string, msgIds: readonly string[]): Promise<Deleted> {
  if (!msgIds.length) return none();
  const rows = await trx.deleteFrom('pubsub_queue').where('sub_key', '=', subKey).where('msg_id', 'in', msgIds).executeTakeFirst();
  const gone = await trx
    .deleteFrom('pubsub_message')
    .where('msg_id', 'in', msgIds)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('pubsub_queue as q').select('q.msg_id').whereRef('q.msg_id', '=', 'pubsub_message.msg_id'))))
    .returning('size')
    .execute();
  return { rows: Number(rows.numDeletedRows), messages: gone.length, bytes: gone.reduce((n, r) => n + Number(r.size), 0) };
}

function fromRow(r: Database['pubsub_message']): PubSubMessage {
  return {
    msgId: r.msg_id,
    seq: Number(r.seq),
    topicName: r.topic_name,
    dataJson: r.data,
    mimeType: r.mime_type,
    priority: Number(r.priority),
    pubTime: Number(r.pub_time),
    expirationTime: Number(r.expiration_time),
    correlId: r.correl_id,
    inReplyTo: r.in_reply_to,
    extClientId: r.ext_client_id,
    size: Number(r.size),
    hasGd: true,
  };
}
