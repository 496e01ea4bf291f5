import type { Store } from '../store.js';
import {
  SEQ_BLOCK,
  type Deleted,
  type Expired,
  type PubSubRepository,
  type SeqBlock,
  type StoredTotals,
  type SubscriptionRecord,
} from '../pubsub-repository.js';
import { KyselyPubSubRepository, type Publication } from '../pubsub-repository-base.js';
import { add, none } from '../pubsub-rows.js';
import { chunks, deleteQueued } from './pubsub-rows.js';

const INSERT_MESSAGE =
  'insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, correl_id, in_reply_to, ext_client_id, size) ' +
  'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_QUEUED = 'insert into pubsub_queue (sub_key, msg_id, priority, seq, delivery_count) values (?, ?, ?, ?, 0)';

/**
 * Pub/sub persistence in SQLite (`synchronous=FULL`: a commit survives power loss). Every write goes through one
 * group-commit queue; GD publications, the hottest write, run as prepared statements.
 */
export class SqlitePubSubRepository<S extends SubscriptionRecord = SubscriptionRecord>
  extends KyselyPubSubRepository<S>
  implements PubSubRepository<S>
{
  readonly #store: Store;
  /** The first number of the next block; undefined until the stored maximum has been read. */
  #nextSeq: number | undefined;
  #readingMax: Promise<number> | undefined;

  constructor(store: Store) {
    super(store.db);
    this.#store = store;
  }

  // One server per file (the lock file), so a counter in this process, started above what is stored, is enough:
  // no round trip per block, and no DDL.
  async reserveSeqBlock(): Promise<SeqBlock> {
    if (this.#nextSeq === undefined) {
      // Callers at once share the one read; a failed read is retried by the next call.
      this.#readingMax ??= this.#maxSeq().finally(() => {
        this.#readingMax = undefined;
      });
      const max = await this.#readingMax;
      this.#nextSeq ??= max + 1;
    }
    const first = this.#nextSeq;
    this.#nextSeq += SEQ_BLOCK;
    return { first, size: SEQ_BLOCK };
  }

  async #maxSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('pubsub_message')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    return Number(row?.m ?? 0);
  }

  protected writePublications(publications: readonly Publication[]): void {
    if (!publications.length) return;
    const insertMessage = this.#store.prepared(INSERT_MESSAGE);
    const insertQueued = this.#store.prepared(INSERT_QUEUED);
    for (const p of publications) {
      for (const m of p.messages) {
        // Positional, in INSERT_MESSAGE's column order: binding by name looks up every key of an object per row.
        insertMessage.run(
          m.msgId,
          m.seq,
          m.topicName,
          m.dataJson,
          m.mimeType,
          m.priority,
          m.pubTime,
          m.expirationTime,
          m.correlId,
          m.inReplyTo,
          m.extClientId,
          m.size,
        );
        for (const subKey of p.subKeys) insertQueued.run(subKey, m.msgId, m.priority, m.seq);
      }
    }
  }

  // Marked before the frame is written, so a message whose frame went out just before a crash comes again with a
  // raised count; the previous frame's removal shares the commit: one commit per frame.
  async markDelivered(subKey: string, msgIds: readonly string[], done: readonly string[]): Promise<Deleted> {
    const deleted = none();
    await this.writes.run(async (trx) => {
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

  async acknowledge(subKey: string, msgIds: readonly string[]): Promise<Deleted> {
    const deleted = none();
    await this.writes.run(async (trx) => {
      for (const part of chunks(msgIds)) add(deleted, await deleteQueued(trx, subKey, part));
    });
    return deleted;
  }

  async requeue(subKey: string): Promise<boolean> {
    await this.writes.run(async (trx) => {
      await trx
        .updateTable('pubsub_queue')
        .set({ delivered: 0 })
        .where('sub_key', '=', subKey)
        .where('delivered', '=', 1)
        .execute();
    });
    return true;
  }

  async dropQueue(subKey: string): Promise<Deleted> {
    const deleted = none();
    await this.writes.run(async (trx) => {
      const ids = (await trx.selectFrom('pubsub_queue').select('msg_id').where('sub_key', '=', subKey).execute()).map(
        (r) => r.msg_id,
      );
      for (const part of chunks(ids)) add(deleted, await deleteQueued(trx, subKey, part));
      await trx.deleteFrom('pubsub_subscription').where('sub_key', '=', subKey).execute();
    });
    return deleted;
  }

  async deleteExpired(now: number): Promise<Expired> {
    const topics = new Map<string, StoredTotals>();
    const rowsPerSub = new Map<string, number>();
    await this.writes.run(async (trx) => {
      const rows = await trx
        .selectFrom('pubsub_message')
        .select(['msg_id', 'topic_name', 'size'])
        .where('expiration_time', '<=', now)
        .execute();
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
}
