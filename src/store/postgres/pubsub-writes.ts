import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { Deleted, Expired, StoredTotals } from '../pubsub-repository.js';
import type { Publication } from '../pubsub-repository-base.js';
import type { DepthRecorder } from './pubsub-depths.js';

// Ids per `= any($1)` array: one bind parameter whatever the length, so the limit only bounds a statement's work.
const CHUNK = 10_000;

/** `items` in slices of at most `CHUNK`. */
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** A round's queue rows as parallel arrays, one per column: each is one bind parameter. */
interface QueueColumns {
  readonly subKeys: string[];
  readonly msgIds: string[];
  readonly priorities: number[];
  readonly seqs: number[];
}

function queueColumns(publications: readonly Publication[]): QueueColumns {
  const columns: QueueColumns = { subKeys: [], msgIds: [], priorities: [], seqs: [] };
  for (const p of publications) {
    for (const m of p.messages) {
      for (const subKey of p.subKeys) {
        columns.subKeys.push(subKey);
        columns.msgIds.push(m.msgId);
        columns.priorities.push(m.priority);
        columns.seqs.push(m.seq);
      }
    }
  }
  return columns;
}

/**
 * The messages of a round also queued for other servers' subscriptions, and per message the subscriptions this
 * server decided for itself (excluded from the join): per message, not per round, since the server's own
 * subscriptions may differ between the publications of one round (one was claimed in between).
 */
function others(publications: readonly Publication[]): { msgIds: string[]; xMsgIds: string[]; xSubKeys: string[] } {
  const out = { msgIds: [] as string[], xMsgIds: [] as string[], xSubKeys: [] as string[] };
  for (const p of publications) {
    if (!p.others) continue;
    // A subscription queued explicitly must never be joined as well (the queue's primary key would refuse the round).
    const exclude = new Set([...p.others.exclude, ...p.subKeys]);
    for (const m of p.messages) {
      out.msgIds.push(m.msgId);
      for (const k of exclude) {
        out.xMsgIds.push(m.msgId);
        out.xSubKeys.push(k);
      }
    }
  }
  return out;
}

/**
 * Writes a round's publications in one statement whatever their number: the messages by an
 * `insert … select from unnest(…)` in a data-modifying CTE, the queue rows by the main insert (cluster-notes §3.7
 * step 1). Each column is one array parameter, so a round binds at most 22 parameters, far below PostgreSQL's
 * 65,535; one statement is one round trip fewer per round than two. A cluster's publications are also queued, in
 * the same statement and snapshot, for every other server's subscription of the topic that is not suspended (step 2).
 * `depths`, when given, hands over the round's depth upsert (step 3), which then runs in this statement too: only
 * for a round with no other write, whose depth rows are then all locked by this one statement, in name order.
 */
export async function insertPublications(
  trx: Transaction<Database>,
  publications: readonly Publication[],
  depth: DepthRecorder,
  depths?: () => RawBuilder<unknown> | undefined,
): Promise<void> {
  const messages = publications.flatMap((p) => p.messages);
  if (!messages.length) return;
  for (const m of messages) depth(m.topicName, 1, m.size);
  const upsert = depths?.();
  const q = queueColumns(publications);
  const o = others(publications);
  const explicit = sql`select k, id, p, s, 0 from unnest(${q.subKeys}::text[], ${q.msgIds}::text[], ${q.priorities}::integer[], ${q.seqs}::bigint[]) as t(k, id, p, s)`;
  const joined = o.msgIds.length
    ? sql`union all select s.sub_key, m.msg_id, m.priority, m.seq, 0
        from m join unnest(${o.msgIds}::text[]) as r(id) on r.id = m.msg_id
        join pubsub_subscription s on s.topic_name = m.topic_name
        where s.suspended = 0 and not exists (select 1 from unnest(${o.xMsgIds}::text[], ${o.xSubKeys}::text[]) as x(id, k)
          where x.id = m.msg_id and x.k = s.sub_key)`
    : sql``;
  await sql`with m as (
      insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, correl_id, in_reply_to, ext_client_id, size)
      select * from unnest(${messages.map((m) => m.msgId)}::text[], ${messages.map((m) => m.seq)}::bigint[],
        ${messages.map((m) => m.topicName)}::text[], ${messages.map((m) => m.dataJson)}::text[],
        ${messages.map((m) => m.mimeType)}::text[], ${messages.map((m) => m.priority)}::integer[],
        ${messages.map((m) => m.pubTime)}::bigint[], ${messages.map((m) => m.expirationTime)}::bigint[],
        ${messages.map((m) => m.correlId)}::text[], ${messages.map((m) => m.inReplyTo)}::text[],
        ${messages.map((m) => m.extClientId)}::text[], ${messages.map((m) => m.size)}::integer[])
      returning msg_id, topic_name, priority, seq)${upsert ? sql`, d as (${upsert})` : sql``}
    insert into pubsub_queue (sub_key, msg_id, priority, seq, delivery_count)
    ${explicit} ${joined}`.execute(trx);
}

/**
 * The owner epochs of the given subscriptions, read `for share` in key order: a claim by another server (which takes
 * the row `for update`) waits for this round to commit, and a round that starts after the claim sees the new epoch
 * and writes nothing (cluster-notes §3.7, the stale owner's write that stranded a row). A deleted one is missing.
 */
export async function ownerEpochs(trx: Transaction<Database>, subKeys: readonly string[]): Promise<Map<string, number>> {
  const keys = [...new Set(subKeys)].sort();
  if (!keys.length) return new Map();
  const { rows } = await sql<{ sub_key: string; e: string }>`select sub_key, owner_epoch as e from pubsub_subscription
    where sub_key = any(${keys}::text[]) order by sub_key for share`.execute(trx);
  return new Map(rows.map((r) => [r.sub_key, Number(r.e)]));
}

/** Whether `epoch` is still the subscription's owner epoch (see `ownerEpochs`); no epoch: one server, always. */
export async function stillOwned(trx: Transaction<Database>, subKey: string, epoch: number | undefined): Promise<boolean> {
  if (epoch === undefined) return true;
  return (await ownerEpochs(trx, [subKey])).get(subKey) === epoch;
}

/** Deletes every queue row of a subscription, then the messages no subscription still needs. */
export async function deleteQueue(trx: Transaction<Database>, subKey: string, depth: DepthRecorder): Promise<Deleted> {
  const rows = await sql<{ msg_id: string }>`delete from pubsub_queue where sub_key = ${subKey} returning msg_id`.execute(trx);
  const deleted = { rows: rows.rows.length, messages: 0, bytes: 0 };
  for (const part of chunks(rows.rows.map((r) => r.msg_id))) {
    const gone = await deleteUnneeded(trx, part, depth);
    deleted.messages += gone.messages;
    deleted.bytes += gone.bytes;
  }
  return deleted;
}

async function deleteUnneeded(
  trx: Transaction<Database>,
  msgIds: readonly string[],
  depth: DepthRecorder,
): Promise<Omit<Deleted, 'rows'>> {
  const deleted = { messages: 0, bytes: 0 };
  for (const m of await deleteUnneededMessages(trx, msgIds)) {
    deleted.messages++;
    deleted.bytes += m.size;
    depth(m.topicName, -1, -m.size);
  }
  return deleted;
}

/**
 * Deletes those of `msgIds` that no queue row needs any more, after this transaction deleted some of their rows; one
 * row per message deleted. The messages are locked first, in id order: two servers removing a message's last two
 * rows at the same moment would each still see the other's row and keep it (an orphan, counted in the depth until
 * it expired); locked, the later waits for the earlier's commit and then, in a statement of its own with a fresh
 * snapshot (READ COMMITTED), sees both rows gone.
 */
export async function deleteUnneededMessages(
  trx: Transaction<Database>,
  msgIds: readonly string[],
): Promise<Array<{ msgId: string; topicName: string; size: number }>> {
  if (!msgIds.length) return [];
  const ids = [...new Set(msgIds)].sort();
  await sql`select 1 from pubsub_message where msg_id = any(${ids}::text[]) order by msg_id for update`.execute(trx);
  const { rows } = await sql<{ msg_id: string; topic_name: string; size: number }>`delete from pubsub_message m
    where m.msg_id = any(${ids}::text[]) and not exists (select 1 from pubsub_queue q where q.msg_id = m.msg_id)
    returning m.msg_id, m.topic_name, m.size`.execute(trx);
  return rows.map((r) => ({ msgId: r.msg_id, topicName: r.topic_name, size: Number(r.size) }));
}

/** Deletes the messages expired at `now` and their queue rows in one statement; counts per topic and subscription. */
export async function deleteExpiredRows(trx: Transaction<Database>, now: number, depth: DepthRecorder): Promise<Expired> {
  const result = await sql<{ kind: 't' | 'q'; key: string; n: string; bytes: string }>`with
      m as (delete from pubsub_message where expiration_time <= ${now} returning msg_id, topic_name, size),
      q as (delete from pubsub_queue where msg_id in (select msg_id from m) returning sub_key)
    select 't' as kind, topic_name as key, count(*) as n, coalesce(sum(size), 0) as bytes from m group by topic_name
    union all
    select 'q', sub_key, count(*), 0 from q group by sub_key`.execute(trx);
  const topics = new Map<string, StoredTotals>();
  const rows = new Map<string, number>();
  for (const r of result.rows) {
    if (r.kind === 't') {
      topics.set(r.key, { count: Number(r.n), bytes: Number(r.bytes) });
      depth(r.key, -Number(r.n), -Number(r.bytes));
    } else rows.set(r.key, Number(r.n));
  }
  return { topics, rows };
}
