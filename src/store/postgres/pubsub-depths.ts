import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { StoredTotals } from '../pubsub-repository.js';

/** Records that a round's transaction changed a topic's stored messages by `count` (and their bytes). */
export type DepthRecorder = (topic: string, count: number, bytes: number) => void;

/**
 * The changes a write round makes to `pubsub_topic_depth`, kept per transaction and written once, last in the round,
 * in topic-name order (cluster-notes §3.2): every server's rounds lock the rows in the same order, so two rounds never
 * deadlock on them. A round that fails leaves nothing behind: its transaction object is forgotten with it.
 */
export class DepthDeltas {
  readonly #rounds = new WeakMap<Transaction<Database>, Map<string, StoredTotals>>();

  /** The recorder for one round's transaction. */
  recorder(trx: Transaction<Database>): DepthRecorder {
    return (topic, count, bytes) => {
      if (!count && !bytes) return;
      let round = this.#rounds.get(trx);
      if (!round) this.#rounds.set(trx, (round = new Map()));
      const t = round.get(topic) ?? { count: 0, bytes: 0 };
      round.set(topic, { count: t.count + count, bytes: t.bytes + bytes });
    };
  }

  /** Writes the round's changes, in topic-name order; nothing when the round changed no depth. */
  async write(trx: Transaction<Database>): Promise<void> {
    await this.take(trx)?.execute(trx);
  }

  /**
   * The round's changes as one upsert, in topic-name order, and forgets them: what `write` runs, for a caller that
   * puts it in a statement of its own (a data-modifying CTE) to save the round a round trip. Undefined when the
   * round changed no depth.
   */
  take(trx: Transaction<Database>): RawBuilder<unknown> | undefined {
    const round = this.#rounds.get(trx);
    this.#rounds.delete(trx);
    if (!round?.size) return undefined;
    const topics = [...round.keys()].sort();
    return sql`insert into pubsub_topic_depth (topic_name, gd, bytes)
      select t, n, b from unnest(${topics}::text[], ${topics.map((t) => round.get(t)!.count)}::bigint[],
        ${topics.map((t) => round.get(t)!.bytes)}::bigint[]) as d(t, n, b) order by t
      on conflict (topic_name) do update set gd = greatest(0, pubsub_topic_depth.gd + excluded.gd),
        bytes = greatest(0, pubsub_topic_depth.bytes + excluded.bytes)`;
  }
}
