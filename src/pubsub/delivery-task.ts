import type { Logger } from 'pino';
import type { PushTarget } from '../channels/wsx/index.js';
import { MSG_TYPE, newCid, timestamp } from '../protocol/index.js';
import type { GdStore } from './gd-store.js';
import { commonBytesOf, compareForDelivery, deliverySuffix, type PubSubMessage } from './message.js';
import type { Subscription } from './subscription.js';

/** Bytes queued on a subscriber's socket above which its deliveries pause until the socket drains. */
export const OUTBOUND_HIGH_WATER = 1024 * 1024;

/**
 * Most bytes of data one batch frame carries (always at least one message): with Zato's default of 500 messages
 * per frame, large messages would otherwise make frames bigger than clients accept.
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/** A non-GD queue this many times over its limit is cut off even when its socket is not backed up. */
const RAM_HARD_CAP_FACTOR = 10;

const COMMA = Buffer.from(',');
const CLOSE_OBJECT = Buffer.from('}');
const CLOSE_LIST = Buffer.from(']}');

/** Close code for a non-GD subscriber that fell too far behind. */
export const SLOW_CONSUMER_CLOSE = 4010;

interface Queued {
  readonly message: PubSubMessage;
  deliveryCount: number;
}

/** The head of a batch whose data fits MAX_BATCH_BYTES; the first message goes whatever its size. */
function capBytes(batch: Queued[]): Queued[] {
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) {
    bytes += batch[i]!.message.size;
    if (bytes > MAX_BATCH_BYTES && i > 0) return batch.slice(0, i);
  }
  return batch;
}

/** What a task tells its owner. */
export interface DeliveryEvents {
  expired(topicName: string, count: number): void;
  gdDeleted(topicName: string, count: number): void;
  slowConsumer(sub: Subscription): void;
}

/**
 * Delivers one subscription's messages, one batch at a time and in order (priority, then publication),
 * to whichever connection the subscription is attached to. GD messages are read from the store; non-GD ones
 * wait in memory, bounded by the topic's `maxDepthNonGd`.
 */
export class DeliveryTask {
  readonly sub: Subscription;
  readonly #gd: GdStore;
  readonly #events: DeliveryEvents;
  readonly #log: Logger;
  readonly #maxRam: number;
  #ram: Queued[] = [];
  readonly #ramInFlight = new Map<string, Queued>();
  readonly #batches = new Map<string, string[]>();
  #target: PushTarget | undefined;
  #running = false;
  #again = false;
  #paused = false;
  #closed = false;
  // Whether the store may hold GD messages for us; false once a read came back short, true again on a GD
  // publication or an attach. Non-GD fan-out then never touches the database.
  #gdMaybe = true;
  #firstSuffix: Buffer | undefined;

  constructor(sub: Subscription, options: { gd: GdStore; events: DeliveryEvents; logger: Logger; maxRam: number }) {
    this.sub = sub;
    this.#gd = options.gd;
    this.#events = options.events;
    this.#log = options.logger.child({ subKey: sub.subKey });
    this.#maxRam = options.maxRam;
  }

  /** The connection receiving deliveries now, if any. */
  get target(): PushTarget | undefined {
    return this.#target;
  }

  /** Batch frames sent and not yet acknowledged (ack_mode client only). */
  get framesAwaitingAck(): number {
    return this.#batches.size;
  }

  /** Non-GD messages waiting (and awaiting acknowledgement). */
  get ramDepth(): number {
    return this.#ram.length + this.#ramInFlight.size;
  }

  /** Attaches a connection; unacknowledged messages are delivered again with their count raised. */
  async attach(target: PushTarget): Promise<void> {
    this.#target = target;
    this.#paused = false;
    this.#gdMaybe = true;
    if (this.sub.ackMode === 'client') {
      await this.#gd.requeueUnacknowledged(this.sub.subKey);
      for (const q of this.#ramInFlight.values()) this.#ram.push(q);
      this.#ramInFlight.clear();
      this.#ram.sort((a, b) => compareForDelivery(a.message, b.message));
      this.#batches.clear();
    }
    this.wake();
  }

  /** The connection went away; messages wait for the next `attach`. */
  detach(): void {
    this.#target = undefined;
  }

  /** Stops for good (unsubscribed). */
  close(): void {
    this.#closed = true;
    this.#target = undefined;
    this.#ram = [];
    this.#ramInFlight.clear();
  }

  /**
   * Queues a non-GD message. A subscriber whose socket is backed up and whose queue is over the topic's
   * `maxDepthNonGd` is cut off as a slow consumer; so is any queue ten times over, whatever the reason.
   */
  pushRam(message: PubSubMessage): void {
    if (this.#closed) return;
    const depth = this.ramDepth;
    if ((depth >= this.#maxRam && (this.#paused || !this.#target)) || depth >= this.#maxRam * RAM_HARD_CAP_FACTOR) {
      if (this.#target) this.#events.slowConsumer(this.sub);
      return;
    }
    const q = { message, deliveryCount: 0 };
    // Publications mostly arrive in order: append, and only sort when a higher priority overtakes.
    const last = this.#ram[this.#ram.length - 1];
    this.#ram.push(q);
    if (last && compareForDelivery(last.message, message) > 0) this.#ram.sort((a, b) => compareForDelivery(a.message, b.message));
    this.wake();
  }

  /** A GD message was queued for this subscription. */
  gdQueued(): void {
    this.#gdMaybe = true;
    this.wake();
  }

  /** Something changed (a publication, an attach, a drained socket): deliver what can be delivered. */
  wake(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    setImmediate(() => void this.#run());
  }

  /** The subscriber acknowledged a message id (or a batch frame's id); false when it is not ours. */
  async acknowledge(id: string): Promise<boolean> {
    const ids = this.#batches.get(id) ?? [id];
    this.#batches.delete(id);
    const gdIds: string[] = [];
    let known = false;
    for (const msgId of ids) {
      const ram = this.#ramInFlight.get(msgId);
      if (ram) {
        this.#ramInFlight.delete(msgId);
        known = true;
      } else {
        gdIds.push(msgId);
      }
    }
    if (gdIds.length) {
      const deleted = await this.#gd.acknowledge(this.sub.subKey, gdIds);
      if (deleted) this.#events.gdDeleted(this.sub.topicName, deleted);
      known = true;
    }
    return known;
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#deliverAll();
      } while (this.#again && !this.#closed);
    } catch (err) {
      this.#log.error({ err }, 'Delivery failed; retrying in 1 s');
      setTimeout(() => this.wake(), 1000).unref();
    } finally {
      this.#running = false;
    }
  }

  async #deliverAll(): Promise<void> {
    for (;;) {
      const target = this.#target;
      if (!target || !target.isOpen || this.#paused || this.#closed) return;
      // With nothing in the store for us, a batch is the head of the in-memory queue: no awaits, no merging,
      // which is what keeps non-GD fan-out to many subscribers cheap.
      const fromRam = !this.#gdMaybe;
      const batch = fromRam ? this.#nextRamBatch(Date.now()) : await this.#nextBatch();
      if (!batch.length) return;
      if (!this.#send(target, batch)) return;
      if (fromRam) this.#afterRamSend(batch);
      else await this.#afterSend(batch);
      if (target.queuedBytes > OUTBOUND_HIGH_WATER) {
        this.#paused = true;
        target.onDrain(() => {
          this.#paused = false;
          this.wake();
        });
        return;
      }
    }
  }

  #nextRamBatch(now: number): Queued[] {
    this.#dropExpiredRam(now);
    return capBytes(this.#ram.slice(0, this.sub.deliveryBatchSize));
  }

  // The batch was the queue's head (see #nextRamBatch); it leaves the queue only once written.
  #afterRamSend(batch: Queued[]): void {
    this.#ram.splice(0, batch.length);
    for (const q of batch) this.#ramDelivered(q);
  }

  // A non-GD message was written: counted, and with ack_mode client kept until the subscriber acknowledges it.
  #ramDelivered(q: Queued): void {
    q.deliveryCount += 1;
    if (this.sub.ackMode === 'client') this.#ramInFlight.set(q.message.msgId, q);
  }

  async #nextBatch(): Promise<Queued[]> {
    const limit = this.sub.deliveryBatchSize;
    const now = Date.now();
    this.#dropExpiredRam(now);
    // Expired GD messages are dropped as they are met; read again until a batch has live ones (or none are left).
    for (;;) {
      const rows = this.#gdMaybe ? await this.#gd.nextBatch(this.sub.subKey, limit) : [];
      if (rows.length < limit) this.#gdMaybe = false;
      const gd = rows.map((q) => ({ message: q.message, deliveryCount: q.deliveryCount }));
      const expired = gd.filter((q) => q.message.expirationTime <= now).map((q) => q.message.msgId);
      if (expired.length) {
        await this.#gd.acknowledge(this.sub.subKey, expired);
        this.#events.expired(this.sub.topicName, expired.length);
      }
      const live = gd.filter((q) => q.message.expirationTime > now);
      if (live.length === 0 && expired.length > 0) continue;
      const merged = [...live, ...this.#ram.slice(0, limit)];
      merged.sort((a, b) => compareForDelivery(a.message, b.message));
      const batch = capBytes(merged.slice(0, limit));
      // What the byte cap left out is still in the store: read it again next time.
      if (batch.length < Math.min(limit, merged.length)) this.#gdMaybe = true;
      return batch;
    }
  }

  #dropExpiredRam(now: number): void {
    let expired = 0;
    for (const q of this.#ram) if (q.message.expirationTime <= now) expired++;
    if (!expired) return;
    this.#ram = this.#ram.filter((q) => q.message.expirationTime > now);
    this.#events.expired(this.sub.topicName, expired);
  }

  /**
   * Writes one `zwsx.psrq` frame. It is assembled from bytes: each message's shared part was encoded once for
   * every subscriber, and only this subscriber's suffix is added, so fan-out copies bytes instead of building
   * and re-encoding a string per subscriber.
   */
  #send(target: PushTarget, batch: Queued[]): boolean {
    const single = batch.length === 1 && !this.sub.wrapOneMsgInList;
    // A single message's frame id is its msg_id (as in Zato); a batch gets its own id, which acknowledges it whole.
    const id = single ? batch[0]!.message.msgId : newCid();
    // Only a subscriber that acknowledges needs the frame id mapped to its messages; with ack_mode write nobody
    // ever answers, and remembering every frame would grow without end.
    if (!single && this.sub.ackMode === 'client') this.#batches.set(id, batch.map((q) => q.message.msgId));
    const parts: Buffer[] = [Buffer.from(`{"meta":{"id":"${id}","timestamp":"${timestamp()}","msg_type":"${MSG_TYPE.PUBSUB_REQUEST}"},"data":${single ? '' : '['}`)];
    batch.forEach((q, i) => {
      if (i) parts.push(COMMA);
      parts.push(commonBytesOf(q.message), this.#suffix(q.deliveryCount + 1));
    });
    parts.push(single ? CLOSE_OBJECT : CLOSE_LIST);
    return target.push(Buffer.concat(parts));
  }

  // Nearly every delivery is a first one: its suffix is encoded once per subscription.
  #suffix(deliveryCount: number): Buffer {
    if (deliveryCount === 1) return (this.#firstSuffix ??= Buffer.from(deliverySuffix(this.sub.subKey, 1)));
    return Buffer.from(deliverySuffix(this.sub.subKey, deliveryCount));
  }

  async #afterSend(batch: Queued[]): Promise<void> {
    const gdIds: string[] = [];
    for (const q of batch) {
      if (!q.message.hasGd) {
        const index = this.#ram.indexOf(q);
        if (index >= 0) this.#ram.splice(index, 1);
        this.#ramDelivered(q);
      } else {
        gdIds.push(q.message.msgId);
      }
    }
    if (!gdIds.length) return;
    if (this.sub.ackMode === 'client') {
      await this.#gd.markDelivered(this.sub.subKey, gdIds);
      return;
    }
    const deleted = await this.#gd.acknowledge(this.sub.subKey, gdIds);
    if (deleted) this.#events.gdDeleted(this.sub.topicName, deleted);
  }
}
