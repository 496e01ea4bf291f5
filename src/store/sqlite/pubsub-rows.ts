import type { Transaction } from 'kysely';
import type { Database } from '../schema.js';
import type { Deleted } from '../pubsub-repository.js';
import { none } from '../pubsub-rows.js';

// Rows per `IN (...)` list: well under SQLite's limit of bound parameters per statement.
const CHUNK = 400;

/** `items` in slices short enough for one `IN (...)` list. */
export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Deletes one subscription's queue rows, then the messages no other subscription still needs (index pubsub_queue_msg). */
export async function deleteQueued(trx: Transaction<Database>, subKey: string, msgIds: readonly string[]): Promise<Deleted> {
  if (!msgIds.length) return none();
  const rows = await trx
    .deleteFrom('pubsub_queue')
    .where('sub_key', '=', subKey)
    .where('msg_id', 'in', msgIds)
    .executeTakeFirst();
  const gone = await trx
    .deleteFrom('pubsub_message')
    .where('msg_id', 'in', msgIds)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('pubsub_queue as q').select('q.msg_id').whereRef('q.msg_id', '=', 'pubsub_message.msg_id'))),
    )
    .returning('size')
    .execute();
  return { rows: Number(rows.numDeletedRows), messages: gone.length, bytes: gone.reduce((n, r) => n + Number(r.size), 0) };
}
