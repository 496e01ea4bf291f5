import type { Logger } from 'pino';
import type { PushTarget } from '../channels/wsx/index.js';
import { CLOSE_CODE, MSG_TYPE, newCid, timestamp } from '../protocol/index.js';
import type { Deleted, GdStore } from './gd-store.js';
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
export const SLOW_CONSUMER_CLOSE = CLOSE_CODE.SLOW_CONSUMER;

interface Queued {
  readonly message: PubSubMessage;
  deliveryCount: number;
}

// A batch frame's envelope around its messages: `{"meta":{"id":…,"timestamp":…,"msg_type":"zwsx.psrq"},"data":[…]}`.
const FRAME_OVERHEAD = 160;

/**
 * The head of a batch that fits one frame: at most MAX_BATCH_BYTES of message data and at most `frameCap` bytes
 * on the wire (the subscriber channel's `maxMessageSize`). The first message goes whatever its data size; one
 * whose frame alone is over `frameCap` never reaches here (see `DeliveryTask#dropOversized`).
 */
function capBytes(batch: Queued[], frameCap: number, suffixBytes: number): Queued[] {
  let data = 0;
  let frame = FRAME_OVERHEAD;
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!.message;
    data += m.size;
    frame += commonBytesOf(m).length + suffixBytes + 1;
    if (i > 0 && (data > MAX_BATCH_BYTES || frame > frameCap)) return batch.slice(0, i);
  }
  return batch;
}

/** What a task tells its owner. */
export interface DeliveryEvents {
  expired(topicName: string, count: number): void;
  /** Messages (and their data bytes) deleted from the store after this task's acknowledgements. */
  gdDeleted(topicName: string, count: number, bytes: number): void;
  slowConsumer(sub: Subscription): void;
  /** Messages this subscription will not receive (overflow, or too large for its channel). */
  dropped(sub: Subscription, count: number, tooLarge: boolean): void;
  /** The task's overflow state or counters changed: persist them (cheaply, later). */
  stateChanged(sub: Subscription): void;
}

/** Counters of what a subscription did not receive, for the admin API and `/metrics`. */
export interface DropCounters {
  /** Messages dropped while the subscription was suspended (its queue at its limit), since it was created. */
  dropped: number;
  /** Of those, messages skipped because one frame holding them would exceed the channel's `maxMessageSize`. */
  tooLarge: number;
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
  // Overflow (docs/pubsub.md "Per-subscription limits"): GD rows queued for us, as counted in memory.
  #gdDepth: number;
  #suspended: boolean;
  #resumeBelow = 0;
  readonly #drops: DropCounters;
  #detachedAt: number | null;

  constructor(
    sub: Subscription,
    options: { gd: GdStore; events: DeliveryEvents; logger: Logger; maxRam: number; gdDepth?: number; suspended?: boolean; dropped?: number; detachedAt?: number | null },
  ) {
    this.sub = sub;
    this.#gd = options.gd;
    this.#events = options.events;
    this.#log = options.logger.child({ subKey: sub.subKey });
    this.#maxRam = options.maxRam;
    this.#gdDepth = options.gdDepth ?? 0;
    this.#suspended = options.suspended ?? false;
    this.#drops = { dropped: options.dropped ?? 0, tooLarge: 0 };
    this.#detachedAt = options.detachedAt ?? null;
  }

  /** GD messages queued for this subscription (sent and unacknowledged included). */
  get gdDepth(): number {
    return this.#gdDepth;
  }

  /** True while the queue is at its limit: new messages for this subscription are dropped and counted. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** What this subscription did not receive. */
  get drops(): Readonly<DropCounters> {
    return this.#drops;
  }

  /** Since when (epoch ms) no connection is attached; null while one is. */
  get detachedAt(): number | null {
    return this.#detachedAt;
  }

  /** Whether a new GD message may be queued for this subscription: not suspended and below `limit` rows. */
  canTakeGd(limit: number): boolean {
    return !this.#suspended && this.#gdDepth < limit;
  }

  /**
   * A GD message this subscription does not take (see `canTakeGd`): at its limit it is suspended, and this and every
   * later message is dropped (and counted) until the subscriber has worked its queue down to half the limit.
   */
  dropGd(limit: number): void {
    if (!this.#suspended) {
      this.#suspended = true;
      this.#resumeBelow = Math.floor(limit / 2);
      this.#log.warn({ topic: this.sub.topicName, queued: this.#gdDepth, limit }, 'Subscription at its queue limit; suspended, new messages for it are dropped');
    }
    this.#countDrop(1, false);
  }

  #countDrop(n: number, tooLarge: boolean): void {
    this.#drops.dropped += n;
    if (tooLarge) this.#drops.tooLarge += n;
    this.#events.dropped(this.sub, n, tooLarge);
    this.#events.stateChanged(this.sub);
  }

  // Rows left our queue: below the low-water mark a suspended subscription takes new messages again.
  #rowsRemoved(deleted: Deleted): void {
    this.#gdDepth = Math.max(0, this.#gdDepth - deleted.rows);
    if (deleted.messages) this.#events.gdDeleted(this.sub.topicName, deleted.messages, deleted.bytes);
    if (this.#suspended && this.#gdDepth <= this.#resumeBelow) {
      this.#suspended = false;
      this.#log.info({ topic: this.sub.topicName, dropped: this.#drops.dropped }, 'Subscription below its low-water mark; receiving again');
      this.#events.stateChanged(this.sub);
    }
  }

  /** Queue rows of ours that the expiry sweep deleted. */
  expiredRows(rows: number): void {
    this.#rowsRemoved({ rows, messages: 0, bytes: 0 });
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
    if (this.#detachedAt !== null) {
      this.#detachedAt = null;
      this.#events.stateChanged(this.sub);
    }
    // Both ack modes: with `write`, rows marked as sent but not removed are frames that may have gone out just before
    // a crash; they go again, with their count raised.
    await this.#gd.requeueUnacknowledged(this.sub.subKey);
    if (this.sub.ackMode === 'client') {
      for (const q of this.#ramInFlight.values()) this.#ram.push(q);
      this.#ramInFlight.clear();
      this.#ram.sort((a, b) => compareForDelivery(a.message, b.message));
      this.#batches.clear();
    }
    this.wake();
  }

  /** The connection went away; messages wait for the next `attach`. */
  detach(now = Date.now()): void {
    this.#target = undefined;
    this.#detachedAt ??= now;
    this.#events.stateChanged(this.sub);
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
      this.#countDrop(1, false);
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

  /** A GD message for this subscription is being committed: counted now, so concurrent publishers cannot overshoot. */
  reserveGd(): void {
    this.#gdDepth += 1;
  }

  /** A reserved GD message was not committed after all. */
  releaseGd(): void {
    this.#gdDepth = Math.max(0, this.#gdDepth - 1);
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
      this.#rowsRemoved(await this.#gd.acknowledge(this.sub.subKey, gdIds));
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

  // GD messages of the last frame written with ack mode `write`: removed in the commit before the next frame (or
  // when the loop stops), so every frame costs one commit, taken before it is written.
  async #deliverAll(): Promise<void> {
    let written: string[] = [];
    try {
      for (;;) {
        const target = this.#target;
        if (!target || !target.isOpen || this.#paused || this.#closed) return;
        // With nothing in the store for us, a batch is the head of the in-memory queue: no awaits, no merging,
        // which is what keeps non-GD fan-out to many subscribers cheap.
        const fromRam = !this.#gdMaybe;
        const batch = fromRam ? this.#nextRamBatch(Date.now(), target) : await this.#nextBatch(target);
        if (!batch.length) return;
        if (!fromRam) {
          await this.#beforeSend(batch, written);
          written = [];
        }
        if (!this.#send(target, batch)) return;
        if (fromRam) this.#afterRamSend(batch);
        else written = this.#afterSend(batch);
        if (target.queuedBytes > OUTBOUND_HIGH_WATER) {
          this.#paused = true;
          target.onDrain(() => {
            this.#paused = false;
            this.wake();
          });
          return;
        }
      }
    } finally {
      if (written.length) this.#rowsRemoved(await this.#gd.acknowledge(this.sub.subKey, written));
    }
  }

  #nextRamBatch(now: number, target: PushTarget): Queued[] {
    this.#dropExpiredRam(now);
    this.#ram = this.#withoutOversized(this.#ram, target.maxMessageSize);
    return capBytes(this.#ram.slice(0, this.sub.deliveryBatchSize), target.maxMessageSize, this.#suffixBytes());
  }

  // Bytes of a delivery suffix (`,"delivery_count":N,"sub_key":"…"}`), counts up to 7 digits.
  #suffixBytes(): number {
    return Buffer.byteLength(deliverySuffix(this.sub.subKey, 1_000_000));
  }

  /** Whether one message alone makes a frame larger than the subscriber's channel accepts (`maxMessageSize`). */
  #oversized(q: Queued, frameCap: number): boolean {
    return FRAME_OVERHEAD + commonBytesOf(q.message).length + this.#suffixBytes() > frameCap;
  }

  // Non-GD messages no frame can carry to this subscriber are dropped from its queue and counted.
  #withoutOversized(queue: Queued[], frameCap: number): Queued[] {
    const kept = queue.filter((q) => !this.#oversized(q, frameCap));
    if (kept.length === queue.length) return queue;
    this.#tooLarge(queue.length - kept.length, frameCap);
    return kept;
  }

  #tooLarge(n: number, frameCap: number): void {
    this.#log.warn({ topic: this.sub.topicName, count: n, maxMessageSize: frameCap }, 'Message larger than the subscriber channel’s maxMessageSize; skipped for this subscriber');
    this.#countDrop(n, true);
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

  async #nextBatch(target: PushTarget): Promise<Queued[]> {
    const limit = this.sub.deliveryBatchSize;
    const frameCap = target.maxMessageSize;
    const now = Date.now();
    this.#dropExpiredRam(now);
    this.#ram = this.#withoutOversized(this.#ram, frameCap);
    // Expired GD messages (and ones too large for this subscriber's channel) are dropped as they are met; read again
    // until a batch has deliverable ones (or none are left).
    for (;;) {
      const rows = this.#gdMaybe ? await this.#gd.nextBatch(this.sub.subKey, limit) : [];
      if (rows.length < limit) this.#gdMaybe = false;
      const gd = rows.map((q) => ({ message: q.message, deliveryCount: q.deliveryCount }));
      const expired = gd.filter((q) => q.message.expirationTime <= now).map((q) => q.message.msgId);
      const tooLarge = gd.filter((q) => q.message.expirationTime > now && this.#oversized(q, frameCap)).map((q) => q.message.msgId);
      if (expired.length || tooLarge.length) {
        this.#rowsRemoved(await this.#gd.acknowledge(this.sub.subKey, [...expired, ...tooLarge]));
        if (expired.length) this.#events.expired(this.sub.topicName, expired.length);
        if (tooLarge.length) this.#tooLarge(tooLarge.length, frameCap);
      }
      const dropped = new Set([...expired, ...tooLarge]);
      const live = gd.filter((q) => !dropped.has(q.message.msgId));
      if (live.length === 0 && dropped.size > 0) continue;
      const merged = [...live, ...this.#ram.slice(0, limit)];
      merged.sort((a, b) => compareForDelivery(a.message, b.message));
      const batch = capBytes(merged.slice(0, limit), frameCap, this.#suffixBytes());
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

  // Commits the attempt (GD messages marked as sent, their count raised) before the frame is written, with the
  // removal of the previous frame's messages (ack mode `write`) in the same commit.
  async #beforeSend(batch: Queued[], written: string[]): Promise<void> {
    const gdIds = batch.filter((q) => q.message.hasGd).map((q) => q.message.msgId);
    if (!gdIds.length && !written.length) return;
    this.#rowsRemoved(await this.#gd.markAttempted(this.sub.subKey, gdIds, written));
  }

  // The frame was written: non-GD messages leave the memory queue; returns the GD ids to remove (ack mode `write`).
  #afterSend(batch: Queued[]): string[] {
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
    return this.sub.ackMode === 'write' ? gdIds : [];
  }
}
