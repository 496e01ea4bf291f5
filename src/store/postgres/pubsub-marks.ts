import { sql, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { GroupCommit } from '../group-commit.js';
import type { Deleted } from '../pubsub-repository.js';
import type { Publication } from '../pubsub-repository-base.js';
import { none } from '../pubsub-rows.js';
import type { DepthRecorder } from './pubsub-depths.js';
import { deleteUnneededMessages, ownerEpochs } from './pubsub-writes.js';

/** One subscription's delivery-state write: `sent` marked as sent (count raised), `done` removed from its queue. */
interface Mark {
  readonly subKey: string;
  readonly epoch: number | undefined;
  readonly sent: readonly string[];
  readonly done: readonly string[];
  result: Deleted;
}

interface Batch {
  readonly marks: Mark[];
  committed?: Promise<void>;
}

const pair = (subKey: string, msgId: string) => `${subKey}\n${msgId}`;

/** A queue row to remove, and the mark that named it first (its deletions count for that mark). */
interface Done {
  readonly mark: Mark;
  readonly msgId: string;
}

/**
 * The delivery-state writes of every subscription (sent, acknowledged) that arrive while a round is being made,
 * written as one op of the round in at most five statements whatever their number. One op each made a round of a thousand
 * subscribers' writes three thousand round trips: a thousand subscribers resuming on one server waited seconds for
 * their first frame (bench case (d)). Each write's `epoch` is checked as `stillOwned` does (cluster-notes §3.7).
 */
export class DeliveryMarks {
  readonly #writes: GroupCommit<Publication>;
  readonly #recorder: (trx: Transaction<Database>) => DepthRecorder;
  #open: Batch | undefined;

  constructor(writes: GroupCommit<Publication>, recorder: (trx: Transaction<Database>) => DepthRecorder) {
    this.#writes = writes;
    this.#recorder = recorder;
  }

  /** Queues one subscription's write; resolves once committed, with what it deleted (or `moved`). */
  async write(subKey: string, sent: readonly string[], done: readonly string[], epoch: number | undefined): Promise<Deleted> {
    const mark: Mark = { subKey, epoch, sent, done, result: none() };
    let batch = this.#open;
    if (!batch) {
      const opened: Batch = (batch = this.#open = { marks: [] });
      const close = () => {
        if (this.#open === opened) this.#open = undefined;
      };
      // Closed once its round has begun (later writes go in the next round), or failed before it ran (a round that
      // fails for good never runs its ops): a closed batch takes no more writes.
      opened.committed = this.#writes
        .run((trx) => {
          close();
          return this.#commit(opened.marks, trx);
        })
        .finally(close);
    }
    batch.marks.push(mark);
    await batch.committed;
    return mark.result;
  }

  // Runs again from the start when the round is retried (group-commit.ts): every result is computed afresh.
  async #commit(marks: readonly Mark[], trx: Transaction<Database>): Promise<void> {
    for (const m of marks) m.result = none();
    const owned = await this.#owned(marks, trx);
    const ours = marks.filter((m) => owned(m));
    const done = new Map<string, Done>();
    for (const mark of ours)
      for (const msgId of mark.done) if (!done.has(pair(mark.subKey, msgId))) done.set(pair(mark.subKey, msgId), { mark, msgId });
    if (done.size) await this.#remove(done, trx);
    const sentKeys = ours.flatMap((m) => m.sent.map(() => m.subKey));
    if (!sentKeys.length) return;
    await sql`update pubsub_queue q set delivered = 1, delivery_count = q.delivery_count + 1
      from unnest(${sentKeys}::text[], ${ours.flatMap((m) => m.sent)}::text[]) as d(k, id)
      where q.sub_key = d.k and q.msg_id = d.id`.execute(trx);
  }

  /** Which marks still come from their subscription's owner (`ownerEpochs`); one without an epoch always does. */
  async #owned(marks: readonly Mark[], trx: Transaction<Database>): Promise<(m: Mark) => boolean> {
    const epochs = await ownerEpochs(
      trx,
      marks.filter((m) => m.epoch !== undefined).map((m) => m.subKey),
    );
    return (m) => {
      if (m.epoch === undefined || epochs.get(m.subKey) === m.epoch) return true;
      m.result.moved = true;
      return false;
    };
  }

  /**
   * Deletes the queue rows done, then the messages no subscription still needs (in statements of their own: in one,
   * the message delete would see the queue rows the same statement deletes). Each deletion counts for the mark that
   * named it.
   */
  async #remove(done: ReadonlyMap<string, Done>, trx: Transaction<Database>): Promise<void> {
    const rows = [...done.values()];
    const deleted = await sql<{ sub_key: string; msg_id: string }>`delete from pubsub_queue q
      using unnest(${rows.map((d) => d.mark.subKey)}::text[], ${rows.map((d) => d.msgId)}::text[]) as d(k, id)
      where q.sub_key = d.k and q.msg_id = d.id returning q.sub_key, q.msg_id`.execute(trx);
    for (const r of deleted.rows) done.get(pair(r.sub_key, r.msg_id))!.mark.result.rows++;
    const byMessage = new Map<string, Mark>();
    for (const d of rows) if (!byMessage.has(d.msgId)) byMessage.set(d.msgId, d.mark);
    const depth = this.#recorder(trx);
    for (const gone of await deleteUnneededMessages(trx, [...byMessage.keys()])) {
      const m = byMessage.get(gone.msgId)!;
      m.result.messages++;
      m.result.bytes += gone.size;
      depth(gone.topicName, -1, -gone.size);
    }
  }
}
