import type { Database } from './schema.js';
import type { Deleted, PubSubMessage, StoredSubscription, SubscriptionRecord } from './pubsub-repository.js';

/** The columns of `pubsub_subscription` a stored subscription is read from. */
export interface SubscriptionRow {
  body: string;
  suspended: number;
  dropped: number;
  detached_at: number | string | null;
}

/** Nothing deleted. */
export const none = (): Deleted => ({ rows: 0, messages: 0, bytes: 0 });

/** Adds `more` to `into`. */
export function add(into: Deleted, more: Deleted): void {
  into.rows += more.rows;
  into.messages += more.messages;
  into.bytes += more.bytes;
}

/** A `pubsub_message` row as a message. */
export function fromRow(r: Database['pubsub_message']): PubSubMessage {
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

/** A subscription row as stored; its body was written by `createSubscription` from an `S`. */
export function toStored<S extends SubscriptionRecord>(row: SubscriptionRow): StoredSubscription<S> {
  return {
    subscription: JSON.parse(row.body) as S,
    state: {
      suspended: Number(row.suspended) === 1,
      dropped: Number(row.dropped),
      detachedAt: row.detached_at === null ? null : Number(row.detached_at),
    },
  };
}
