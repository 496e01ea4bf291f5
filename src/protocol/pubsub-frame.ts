import { MSG_TYPE } from './constants.js';

/** The fields of a message that a `zwsx.psrq` delivery carries. Times are epoch ms. */
export interface PsrqMessage {
  readonly msgId: string;
  readonly topicName: string;
  /** The data, already JSON text: written into the frame as is. */
  readonly dataJson: string;
  readonly mimeType: string;
  readonly priority: number;
  readonly pubTime: number;
  readonly expirationTime: number;
  readonly correlId: string | null;
  readonly inReplyTo: string | null;
  readonly extClientId: string | null;
  readonly size: number;
}

/** One message of a frame, with the delivery count it goes out with (1 on a first delivery). */
export interface PsrqDelivery {
  readonly message: PsrqMessage;
  readonly deliveryCount: number;
  /** `psrqMessageHead(message)`, when the caller holds it already (saves a lookup per message per frame). */
  readonly head?: Buffer | undefined;
}

/**
 * Bytes of a frame's envelope around its messages, `{"meta":{"id":…,"timestamp":…,"msg_type":"zwsx.psrq"},"data":[…]}`,
 * with room for ids of up to about 60 characters: what frame-size estimates add to the messages' bytes.
 */
export const PSRQ_FRAME_OVERHEAD = 160;

const COMMA = Buffer.from(',');
const CLOSE_OBJECT = Buffer.from('}');
const CLOSE_LIST = Buffer.from(']}');

// The part of a delivery that is the same for every subscriber, encoded once per message (fan-out).
const headBytes = new WeakMap<PsrqMessage, Buffer>();

function headText(m: PsrqMessage): string {
  const head: Record<string, unknown> = {
    msg_id: m.msgId,
    topic_name: m.topicName,
    priority: m.priority,
    pub_time_iso: new Date(m.pubTime).toISOString(),
    expiration_time_iso: new Date(m.expirationTime).toISOString(),
    mime_type: m.mimeType,
    size: m.size,
  };
  if (m.correlId !== null) head.correl_id = m.correlId;
  if (m.inReplyTo !== null) head.in_reply_to = m.inReplyTo;
  if (m.extClientId !== null) head.ext_client_id = m.extClientId;
  return `{"data":${m.dataJson},${JSON.stringify(head).slice(1, -1)}`;
}

/**
 * The UTF-8 bytes of everything in a delivered message but its closing `,"delivery_count":…,"sub_key":…}`,
 * encoded once per message however many subscribers receive it.
 */
export function psrqMessageHead(m: PsrqMessage): Buffer {
  let bytes = headBytes.get(m);
  if (!bytes) headBytes.set(m, (bytes = Buffer.from(headText(m))));
  return bytes;
}

/** What ends a delivered message for one subscriber: its delivery count and sub_key. */
export function psrqDeliverySuffix(subKey: string, deliveryCount: number): string {
  return `,"delivery_count":${deliveryCount},"sub_key":${JSON.stringify(subKey)}}`;
}

/**
 * Encodes one subscription's `zwsx.psrq` frames. A frame is assembled from bytes: each message's shared head was
 * encoded once for every subscriber, and only this subscriber's suffix is added, so fan-out copies bytes instead
 * of building and re-encoding a string per subscriber. Equal to `JSON.stringify` of the same frame (tested).
 */
export class PsrqEncoder {
  readonly #subKey: string;
  // Nearly every delivery is a first one: its suffix is encoded once per subscription.
  readonly #firstSuffix: Buffer;
  /** Most bytes of one message's suffix (delivery counts up to 7 digits), for frame-size estimates. */
  readonly suffixBytes: number;

  constructor(subKey: string) {
    this.#subKey = subKey;
    this.#firstSuffix = Buffer.from(psrqDeliverySuffix(subKey, 1));
    this.suffixBytes = Buffer.byteLength(psrqDeliverySuffix(subKey, 1_000_000));
  }

  /** Bytes one message adds to a frame at most (its head, suffix and separator). */
  messageBytes(m: PsrqMessage, head: Buffer = psrqMessageHead(m)): number {
    return head.length + this.suffixBytes + 1;
  }

  /**
   * A frame with `deliveries` as its `data`: the one message itself when `single`, else a list. Each goes out with
   * its `deliveryCount` plus `countOffset` (a caller holding the count before this delivery passes 1 instead of
   * copying every item). `id` and `time` are written unescaped: they are generated ids and ISO times.
   */
  frame(id: string, time: string, deliveries: readonly PsrqDelivery[], single: boolean, countOffset = 0): Buffer {
    const parts: Buffer[] = [
      Buffer.from(
        `{"meta":{"id":"${id}","timestamp":"${time}","msg_type":"${MSG_TYPE.PUBSUB_REQUEST}"},"data":${single ? '' : '['}`,
      ),
    ];
    for (let i = 0; i < deliveries.length; i++) {
      const d = deliveries[i]!;
      if (i) parts.push(COMMA);
      parts.push(d.head ?? psrqMessageHead(d.message), this.#suffix(d.deliveryCount + countOffset));
    }
    parts.push(single ? CLOSE_OBJECT : CLOSE_LIST);
    return Buffer.concat(parts);
  }

  #suffix(deliveryCount: number): Buffer {
    if (deliveryCount === 1) return this.#firstSuffix;
    return Buffer.from(psrqDeliverySuffix(this.#subKey, deliveryCount));
  }
}
