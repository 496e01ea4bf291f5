import type { Logger } from 'pino';
import type { PushTarget } from '../channels/wsx/index.js';
import { PSRQ_FRAME_OVERHEAD, type PsrqEncoder, psrqMessageHead } from '../protocol/index.js';
import type { PubSubRepository } from '../store/index.js';
import { capBytes, mergeInOrder } from './batch.js';
import type { Overflow } from './overflow.js';
import type { Queued, RamQueue } from './ram-queue.js';
import type { Subscription } from './subscription.js';

/**
 * Reads a delivery task's next batch, in order (priority, then publication) and sized for the subscriber's frame
 * cap: from the in-memory queue alone while the store holds nothing for the subscription, else GD rows merged
 * with it. Expired messages, and ones too large for the subscriber's channel, are dropped and counted on the way.
 */
export class BatchReader {
  #gdMaybe = true;
  // Counts gdArrived() calls, so that a read that started before one cannot clear the flag it set.
  #gdSignals = 0;
  readonly #sub: Subscription;
  readonly #gd: Pick<PubSubRepository, 'nextBatch' | 'acknowledge'>;
  readonly #ram: RamQueue;
  readonly #encoder: PsrqEncoder;
  readonly #overflow: Overflow;
  readonly #events: { expired(topicName: string, count: number): void };
  readonly #log: Logger;

  constructor(
    sub: Subscription,
    options: {
      repository: Pick<PubSubRepository, 'nextBatch' | 'acknowledge'>;
      ram: RamQueue;
      encoder: PsrqEncoder;
      overflow: Overflow;
      /** Told of messages that expired before delivery (the task's `DeliveryEvents`). */
      events: { expired(topicName: string, count: number): void };
      logger: Logger;
    },
  ) {
    this.#sub = sub;
    this.#gd = options.repository;
    this.#ram = options.ram;
    this.#encoder = options.encoder;
    this.#overflow = options.overflow;
    this.#events = options.events;
    this.#log = options.logger;
  }

  /**
   * Whether the store may hold GD messages for us; false once a read came back short, true again on a GD
   * publication or an attach. Non-GD fan-out then never touches the database.
   */
  get gdMaybe(): boolean {
    return this.#gdMaybe;
  }

  /** A GD message was queued for us, or a connection attached: the next batch reads the store. */
  gdArrived(): void {
    this.#gdMaybe = true;
    this.#gdSignals++;
  }

  /** The next batch when the store holds nothing for us: the head of the in-memory queue, left in it until written. */
  nextRamBatch(now: number, target: PushTarget): Queued[] {
    this.#dropExpiredRam(now);
    this.#dropOversizedRam(target.maxMessageSize);
    return capBytes(this.#ram.peek(this.#sub.deliveryBatchSize), target.maxMessageSize, this.#encoder);
  }

  /** The next batch of GD rows (read from the store) merged with the in-memory queue's head. */
  async nextBatch(target: PushTarget): Promise<Queued[]> {
    const limit = this.#sub.deliveryBatchSize;
    const frameCap = target.maxMessageSize;
    const now = Date.now();
    this.#dropExpiredRam(now);
    this.#dropOversizedRam(frameCap);
    // Expired GD messages (and ones too large for this subscriber's channel) are dropped as they are met; read again
    // until a batch has deliverable ones (or none are left).
    for (;;) {
      const signals = this.#gdSignals;
      const rows = this.#gdMaybe ? await this.#gd.nextBatch(this.#sub.subKey, limit) : [];
      // A publication committed while this read ran may be missing from it (PostgreSQL reads on another pooled
      // connection): only a read that no gdArrived() overtook may say the store is empty.
      if (rows.length < limit && signals === this.#gdSignals) this.#gdMaybe = false;
      const gd = rows.map((q) => ({ message: q.message, deliveryCount: q.deliveryCount }));
      const expired = gd.filter((q) => q.message.expirationTime <= now).map((q) => q.message.msgId);
      const tooLarge = gd
        .filter((q) => q.message.expirationTime > now && this.#oversized(q, frameCap))
        .map((q) => q.message.msgId);
      if (expired.length || tooLarge.length) {
        this.#overflow.rowsRemoved(await this.#gd.acknowledge(this.#sub.subKey, [...expired, ...tooLarge]));
        if (expired.length) this.#events.expired(this.#sub.topicName, expired.length);
        if (tooLarge.length) this.#tooLarge(tooLarge.length, frameCap);
      }
      const dropped = new Set([...expired, ...tooLarge]);
      const live = gd.filter((q) => !dropped.has(q.message.msgId));
      if (live.length === 0 && dropped.size > 0) continue;
      const merged = mergeInOrder(live, this.#ram.peek(limit), limit);
      const batch = capBytes(merged, frameCap, this.#encoder);
      // What the byte cap left out is still in the store: read it again next time.
      if (batch.length < merged.length) this.#gdMaybe = true;
      return batch;
    }
  }

  // The longest message head a frame of at most `frameCap` bytes can carry alone.
  #maxHead(frameCap: number): number {
    return frameCap - PSRQ_FRAME_OVERHEAD - this.#encoder.suffixBytes;
  }

  /** Whether one message alone makes a frame larger than the subscriber's channel accepts (`maxMessageSize`). */
  #oversized(q: Queued, frameCap: number): boolean {
    return psrqMessageHead(q.message).length > this.#maxHead(frameCap);
  }

  // Non-GD messages no frame can carry to this subscriber are dropped from its queue and counted.
  #dropOversizedRam(frameCap: number): void {
    const n = this.#ram.dropLargerThan(this.#maxHead(frameCap));
    if (n) this.#tooLarge(n, frameCap);
  }

  #tooLarge(n: number, frameCap: number): void {
    this.#log.warn(
      { topic: this.#sub.topicName, count: n, maxMessageSize: frameCap },
      'Message larger than the subscriber channel’s maxMessageSize; skipped for this subscriber',
    );
    this.#overflow.countDrop(n, true);
  }

  #dropExpiredRam(now: number): void {
    const expired = this.#ram.dropExpired(now);
    if (expired) this.#events.expired(this.#sub.topicName, expired);
  }
}
