import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { StoredTotals } from '../pubsub-repository.js';

/** Records that a round's transaction changed a topic's stored messages by `count` (and their bytes). */
export type DepthRecorder = (topic: string, count: number, bytes: number) => void;

// A shard's row folded once nobody wrote it for this long: a dead or idle process's (a live one writes a new row).
const FOLD_AFTER = '10 seconds';

/**
 * The changes a write round makes to `pubsub_topic_depth`, kept per transaction and written once, last in the round,
 * in topic-name order (cluster-notes §3.2), to this process's own shard of each topic: this server's rounds of a topic
 * lock the same row, so they commit in order (a publisher's messages stay in order), while another server's rounds
 * write their own row and never wait for these (one shared row made two servers' rounds take turns). A round that
 * fails leaves nothing behind: its transaction object is forgotten with it.
 */
export class DepthDeltas {
  readonly #rounds = new WeakMap<Transaction<Database>, Map<string, StoredTotals>>();
  /** This process's shard: random, so a restarted or second process never shares one by accident. */
  readonly #shard = randomBytes(8).toString('hex');

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
   * round changed no depth. A shard's row may go below 0 (its process removed what another stored): only the sum
   * per topic is a depth.
   */
  take(trx: Transaction<Database>): RawBuilder<unknown> | undefined {
    const round = this.#rounds.get(trx);
    this.#rounds.delete(trx);
    if (!round?.size) return undefined;
    const topics = [...round.keys()].sort();
    return sql`insert into pubsub_topic_depth (topic_name, shard, gd, bytes)
      select t, ${this.#shard}, n, b from unnest(${topics}::text[], ${topics.map((t) => round.get(t)!.count)}::bigint[],
        ${topics.map((t) => round.get(t)!.bytes)}::bigint[]) as d(t, n, b) order by t
      on conflict (topic_name, shard) do update set gd = pubsub_topic_depth.gd + excluded.gd,
        bytes = pubsub_topic_depth.bytes + excluded.bytes, updated_at = now()`;
  }
}

/** Depth per topic: the sum of its shards' rows (a sum below 0, from rows written in between, reads as 0). */
export async function readDepths(db: Kysely<Database>): Promise<Map<string, StoredTotals>> {
  const { rows } = await sql<{ topic_name: string; gd: string; bytes: string }>`select topic_name,
    sum(gd) as gd, sum(bytes) as bytes from pubsub_topic_depth group by topic_name`.execute(db);
  const atLeast0 = (v: string) => Math.max(0, Number(v));
  return new Map(rows.map((r) => [r.topic_name, { count: atLeast0(r.gd), bytes: atLeast0(r.bytes) }]));
}

/**
 * Folds the shards nobody wrote for a while into each topic's row '' (run by the housekeeper), so that the rows of
 * dead processes do not pile up. One statement: a row deleted here is added there in the same commit; a process
 * writing its row meanwhile either waits and then finds it gone (its upsert inserts it anew) or keeps it (the delete
 * sees the fresh `updated_at`).
 */
export async function foldDepths(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ folded: string }>`with gone as (
      delete from pubsub_topic_depth where shard <> '' and updated_at < now() - ${FOLD_AFTER}::interval
      returning topic_name, gd, bytes),
    f as (insert into pubsub_topic_depth (topic_name, shard, gd, bytes)
      select topic_name, '', sum(gd), sum(bytes) from gone group by topic_name order by topic_name
      on conflict (topic_name, shard) do update set gd = pubsub_topic_depth.gd + excluded.gd,
        bytes = pubsub_topic_depth.bytes + excluded.bytes, updated_at = now())
    select count(*) as folded from gone`.execute(db);
  return Number(rows[0]?.folded ?? 0);
}
