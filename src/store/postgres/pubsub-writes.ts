import { sql, type Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { Deleted, Expired, StoredTotals } from '../pubsub-repository.js';
import { none } from '../pubsub-rows.js';
import type { Publication } from '../pubsub-repository-base.js';

// Ids per `= any($1)` array: one bind parameter whatever the length, so the limit only bounds a statement's work.
const CHUNK = 10_000;

/** `items` in slices of at most `CHUNK`. */
export function chunks<T>(items: readonly T[]): T[][] {
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
 * Writes a round's publications in one statement whatever their number: the messages by an
 * `insert … select from unnest(…)` in a data-modifying CTE, the queue rows by the main insert (cluster-notes §3.7
 * step 1). Each column is one array parameter, so a round binds 16 parameters, far below PostgreSQL's 65,535; one
 * statement is one round trip fewer per round than two.
 */
export async function insertPublications(trx: Transaction<Database>, publications: readonly Publication[]): Promise<void> {
  const messages = publications.flatMap((p) => p.messages);
  if (!messages.length) return;
  const q = queueColumns(publications);
  await sql`with m as (
      insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, correl_id, in_reply_to, ext_client_id, size)
      select * from unnest(${messages.map((m) => m.msgId)}::text[], ${messages.map((m) => m.seq)}::bigint[],
        ${messages.map((m) => m.topicName)}::text[], ${messages.map((m) => m.dataJson)}::text[],
        ${messages.map((m) => m.mimeType)}::text[], ${messages.map((m) => m.priority)}::integer[],
        ${messages.map((m) => m.pubTime)}::bigint[], ${messages.map((m) => m.expirationTime)}::bigint[],
        ${messages.map((m) => m.correlId)}::text[], ${messages.map((m) => m.inReplyTo)}::text[],
        ${messages.map((m) => m.extClientId)}::text[], ${messages.map((m) => m.size)}::integer[]))
    insert into pubsub_queue (sub_key, msg_id, priority, seq, delivery_count)
    select k, id, p, s, 0 from unnest(${q.subKeys}::text[], ${q.msgIds}::text[], ${q.priorities}::integer[], ${q.seqs}::bigint[]) as t(k, id, p, s)`.execute(
    trx,
  );
}

/** Marks queue rows as sent and raises their delivery count. */
export async function markSent(trx: Transaction<Database>, subKey: string, msgIds: readonly string[]): Promise<void> {
  if (!msgIds.length) return;
  await sql`update pubsub_queue set delivered = 1, delivery_count = delivery_count + 1
    where sub_key = ${subKey} and msg_id = any(${msgIds}::text[])`.execute(trx);
}

/**
 * Deletes one subscription's queue rows, then those of the messages no subscription still needs. Two statements:
 * in one, the message delete would see the queue rows the same statement deletes.
 */
export async function deleteQueued(trx: Transaction<Database>, subKey: string, msgIds: readonly string[]): Promise<Deleted> {
  if (!msgIds.length) return none();
  const rows = await sql`delete from pubsub_queue where sub_key = ${subKey} and msg_id = any(${msgIds}::text[])`.execute(trx);
  return { rows: Number(rows.numAffectedRows ?? 0), ...(await deleteUnneeded(trx, msgIds)) };
}

/** Deletes every queue row of a subscription, then the messages no subscription still needs. */
export async function deleteQueue(trx: Transaction<Database>, subKey: string): Promise<Deleted> {
  const rows = await sql<{ msg_id: string }>`delete from pubsub_queue where sub_key = ${subKey} returning msg_id`.execute(trx);
  const deleted = { rows: rows.rows.length, messages: 0, bytes: 0 };
  for (const part of chunks(rows.rows.map((r) => r.msg_id))) {
    const gone = await deleteUnneeded(trx, part);
    deleted.messages += gone.messages;
    deleted.bytes += gone.bytes;
  }
  return deleted;
}

async function deleteUnneeded(trx: Transaction<Database>, msgIds: readonly string[]): Promise<Omit<Deleted, 'rows'>> {
  // `count`/`sum` come back from pg as strings.
  const gone = await sql<{ n: string; bytes: string | null }>`with gone as (
      delete from pubsub_message m where m.msg_id = any(${msgIds}::text[])
        and not exists (select 1 from pubsub_queue q where q.msg_id = m.msg_id)
      returning m.size)
    select count(*) as n, sum(size) as bytes from gone`.execute(trx);
  const row = gone.rows[0];
  return { messages: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/** Deletes the messages expired at `now` and their queue rows in one statement; counts per topic and subscription. */
export async function deleteExpiredRows(trx: Transaction<Database>, now: number): Promise<Expired> {
  const result = await sql<{ kind: 't' | 'q'; key: string; n: string; bytes: string }>`with
      m as (delete from pubsub_message where expiration_time <= ${now} returning msg_id, topic_name, size),
      q as (delete from pubsub_queue where msg_id in (select msg_id from m) returning sub_key)
    select 't' as kind, topic_name as key, count(*) as n, coalesce(sum(size), 0) as bytes from m group by topic_name
    union all
    select 'q', sub_key, count(*), 0 from q group by sub_key`.execute(trx);
  const topics = new Map<string, StoredTotals>();
  const rows = new Map<string, number>();
  for (const r of result.rows) {
    if (r.kind === 't') topics.set(r.key, { count: Number(r.n), bytes: Number(r.bytes) });
    else rows.set(r.key, Number(r.n));
  }
  return { topics, rows };
}
