/** One pub/sub message as a subscriber's handler receives it (a `zwsx.psrq` delivery, docs/pubsub.md). */
export interface PubSubMessage<T = unknown> {
  /** `msg_id` (`zpsm…`): the same on every delivery of the message. */
  readonly msgId: string;
  readonly topic: string;
  readonly data: T;
  /** 1–9, higher first. */
  readonly priority: number;
  /** 1 on a first delivery; more means "maybe seen before" (a redelivery after a reconnect or a crash). */
  readonly deliveryCount: number;
  readonly subKey: string;
  /** When it was published, ISO 8601. */
  readonly pubTime: string | undefined;
  readonly expirationTime: string | undefined;
  readonly correlId: string | undefined;
  readonly inReplyTo: string | undefined;
  readonly extClientId: string | undefined;
  readonly mimeType: string | undefined;
  readonly size: number | undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Reads one delivered message (its ids already checked by `pubSubDeliveries`); fields of other types read as absent. */
export function toMessage(raw: unknown, msgId: string, subKey: string): PubSubMessage {
  const m = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return {
    msgId,
    topic: text(m.topic_name) ?? '',
    data: m.data,
    priority: num(m.priority) ?? 5,
    deliveryCount: num(m.delivery_count) ?? 1,
    subKey,
    pubTime: text(m.pub_time_iso),
    expirationTime: text(m.expiration_time_iso),
    correlId: text(m.correl_id),
    inReplyTo: text(m.in_reply_to),
    extClientId: text(m.ext_client_id),
    mimeType: text(m.mime_type),
    size: num(m.size),
  };
}
