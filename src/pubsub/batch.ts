import { PSRQ_FRAME_OVERHEAD, type PsrqEncoder } from '../protocol/index.js';
import { compareForDelivery } from './message.js';
import type { Queued } from './ram-queue.js';

/**
 * Most bytes of data one batch frame carries (always at least one message): with Zato's default of 500 messages
 * per frame, large messages would otherwise make frames bigger than clients accept.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * The head of a batch that fits one frame: at most MAX_BATCH_BYTES of message data and at most `frameCap` bytes
 * on the wire (the subscriber channel's `maxMessageSize`). The first message goes whatever its data size; one
 * whose frame alone is over `frameCap` never reaches here (the delivery task drops it first).
 */
export function capBytes(batch: Queued[], frameCap: number, encoder: PsrqEncoder): Queued[] {
  let data = 0;
  let frame = PSRQ_FRAME_OVERHEAD;
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!.message;
    data += m.size;
    frame += encoder.messageBytes(m, batch[i]!.head);
    if (i > 0 && (data > MAX_BATCH_BYTES || frame > frameCap)) return batch.slice(0, i);
  }
  return batch;
}

/** The first `limit` of two lists each in delivery order, merged in delivery order (no sort). */
export function mergeInOrder(a: readonly Queued[], b: readonly Queued[], limit: number): Queued[] {
  const out: Queued[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && compareForDelivery(a[i]!.message, b[j]!.message) <= 0)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
