import { BadRequestError, ValidationError } from '../errors/index.js';
import { newHexId } from '../protocol/index.js';
import type { PubSubMessage } from '../store/index.js';
import type { TopicConfig } from './config.js';

/** A published message, in memory (non-GD) or loaded from the store (GD): the store's record of it. */
export type { PubSubMessage } from '../store/index.js';

/** What a publisher gives (Zato's `publish-message` input, camel-cased). */
export interface PublishInput {
  readonly data: unknown;
  readonly hasGd?: boolean | undefined;
  /** 1–9, default 5; 9 is delivered first. */
  readonly priority?: number | undefined;
  /** Milliseconds until the message expires, as in Zato; capped by the topic's `limitMessageExpiry`. */
  readonly expiration?: number | undefined;
  readonly correlId?: string | undefined;
  readonly inReplyTo?: string | undefined;
  readonly mimeType?: string | undefined;
  readonly extClientId?: string | undefined;
}

/**
 * A message id as in Zato, `zpsm` and 24 hex digits: 12 of the publication millisecond, then 48 random bits.
 * Time-ordered ids append to the store's indexes instead of landing at random pages, which keeps each
 * commit (and its fsync) small.
 */
export function newMsgId(now = Date.now()): string {
  return `zpsm${now.toString(16).padStart(12, '0')}${newHexId(6)}`;
}

/** Validates a publication against its topic and builds the message. */
export function buildMessage(topic: TopicConfig, input: PublishInput, seq: number, now: number): PubSubMessage {
  const priority = input.priority ?? 5;
  if (!Number.isInteger(priority) || priority < 1 || priority > 9)
    throw new ValidationError('invalid_input', 'priority must be an integer from 1 to 9', { field: 'priority' });
  const limitMs = topic.limitMessageExpiry * 1000;
  const expiration = input.expiration ?? limitMs;
  if (typeof expiration !== 'number' || !Number.isFinite(expiration) || expiration <= 0) {
    throw new ValidationError('invalid_input', 'expiration must be a positive number of milliseconds', { field: 'expiration' });
  }
  if (input.data === undefined) throw new ValidationError('invalid_input', 'data is required', { field: 'data' });
  let dataJson: string;
  try {
    dataJson = JSON.stringify(input.data);
  } catch {
    throw new BadRequestError('invalid_data', 'data cannot be serialized to JSON', { field: 'data' });
  }
  return {
    msgId: newMsgId(now),
    seq,
    topicName: topic.name,
    dataJson,
    mimeType: input.mimeType ?? 'application/json',
    priority,
    pubTime: now,
    expirationTime: now + Math.min(expiration, limitMs),
    correlId: input.correlId ?? null,
    inReplyTo: input.inReplyTo ?? null,
    extClientId: input.extClientId ?? null,
    size: Buffer.byteLength(dataJson),
    hasGd: input.hasGd ?? topic.hasGd,
  };
}

/** Delivery order: higher priority first, then publication order. */
export function compareForDelivery(
  a: Pick<PubSubMessage, 'priority' | 'seq'>,
  b: Pick<PubSubMessage, 'priority' | 'seq'>,
): number {
  return b.priority - a.priority || a.seq - b.seq;
}

/** A stored message as the admin API shows it (browsing a topic). */
export interface MessageView {
  readonly msg_id: string;
  readonly seq: number;
  readonly data: unknown;
  readonly priority: number;
  readonly pub_time_iso: string;
  readonly expiration_time_iso: string;
  readonly mime_type: string;
  readonly size: number;
  readonly correl_id: string | null;
  readonly in_reply_to: string | null;
  readonly ext_client_id: string | null;
}

/** The admin API's view of a message (its `zwsx.psrq` form is `protocol/pubsub-frame.ts`'s). */
export function messageView(m: PubSubMessage): MessageView {
  return {
    msg_id: m.msgId,
    seq: m.seq,
    data: JSON.parse(m.dataJson) as unknown,
    priority: m.priority,
    pub_time_iso: new Date(m.pubTime).toISOString(),
    expiration_time_iso: new Date(m.expirationTime).toISOString(),
    mime_type: m.mimeType,
    size: m.size,
    correl_id: m.correlId,
    in_reply_to: m.inReplyTo,
    ext_client_id: m.extClientId,
  };
}
