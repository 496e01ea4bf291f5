import type { Logger } from 'pino';
import type { PushTarget } from '../channels/wsx/index.js';
import { newCid, PsrqEncoder, timestamp } from '../protocol/index.js';
import type { PubSubRepository } from '../store/index.js';
import { BatchReader } from './batch-reader.js';
import type { PubSubMessage } from './message.js';
import { Overflow, type DropCounters, type OverflowEvents } from './overflow.js';
import { freshQueued, RamQueue, type Queued } from './ram-queue.js';
import type { Subscription } from './subscription.js';

/** Bytes queued on a subscriber's socket above which its deliveries pause until the socket drains. */
export const OUTBOUND_HIGH_WATER = 1024 * 1024;

/** A non-GD queue this many times over its limit is cut off even when its socket is not backed up. */
const RAM_HARD_CAP_FACTOR = 10;

/** Where a delivery task keeps GD messages: the store's pub/sub repository. */
export type DeliveryStore = Pick<PubSubRepository, 'nextBatch' | 'markDelivered' | 'acknowledge' | 'requeue'>;

/** What a task tells its owner. */
export interface DeliveryEvents extends OverflowEvents {
  expired(topicName: string, count: number): void;
  slowConsumer(sub: Subscription): void;
}

/**
 * Delivers one subscription's messages, one batch at a time and in order (priority, then publication),
 * to whichever connection the subscription is attached to. GD messages are read from the store; non-GD ones
 * wait in memory, bounded by the topic's `maxDepthNonGd`.
 */
export class DeliveryTask {
  readonly sub: Subscription;
  readonly #gd: DeliveryStore;
  readonly #encoder: PsrqEncoder;
  readonly #events: DeliveryEvents;
  readonly #log: Logger;
  readonly #maxRam: number;
  readonly #ram = new RamQueue();
  readonly #batches = new Map<string, string[]>();
  #target: PushTarget | undefined;
  // Attached but not yet delivering to: its requeue is under way (see attach).
  #attaching: PushTarget | undefined;
  #running = false;
  #again = false;
  #paused = false;
  #closed = false;
  readonly #overflow: Overflow;
  readonly #reader: BatchReader;
  #detachedAt: number | null;
  // Whether rows may be marked as sent that an attach must requeue. A claim requeues in its own transaction, and a
  // thousand subscribers resuming at once would otherwise queue a thousand more writes behind it (bench case (d)).
  #sentSinceRequeue: boolean;

  constructor(
    sub: Subscription,
    options: {
      repository: DeliveryStore;
      events: DeliveryEvents;
      logger: Logger;
      maxRam: number;
      gdDepth?: number;
      suspended?: boolean;
      dropped?: number;
      detachedAt?: number | null;
      /** The stored rows were requeued just now (a claim did it in its transaction): the first attach need not. */
      requeued?: boolean;
    },
  ) {
    this.sub = sub;
    this.#gd = options.repository;
    this.#encoder = new PsrqEncoder(sub.subKey);
    this.#events = options.events;
    this.#log = options.logger.child({ subKey: sub.subKey });
    this.#maxRam = options.maxRam;
    this.#overflow = new Overflow(sub, options.events, this.#log, options);
    this.#reader = new BatchReader(sub, {
      repository: options.repository,
      ram: this.#ram,
      encoder: this.#encoder,
      overflow: this.#overflow,
      events: options.events,
      logger: this.#log,
    });
    this.#detachedAt = options.detachedAt ?? null;
    this.#sentSinceRequeue = !options.requeued;
  }

  /** GD messages queued for this subscription (sent and unacknowledged included). */
  get gdDepth(): number {
    return this.#overflow.gdDepth;
  }

  /** True while the queue is at its limit: new messages for this subscription are dropped and counted. */
  get suspended(): boolean {
    return this.#overflow.suspended;
  }

  /** What this subscription did not receive. */
  get drops(): Readonly<DropCounters> {
    return this.#overflow.drops;
  }

  /** Since when (epoch ms) no connection is attached; null while one is. */
  get detachedAt(): number | null {
    return this.#detachedAt;
  }

  /** Queue rows of ours that the expiry sweep deleted. */
  expiredRows(rows: number): void {
    this.#overflow.rowsRemoved({ rows, messages: 0, bytes: 0 });
  }

  /** The connection receiving deliveries now (or being attached), if any. */
  get target(): PushTarget | undefined {
    return this.#target ?? this.#attaching;
  }

  /** Batch frames sent and not yet acknowledged (ack_mode client only). */
  get framesAwaitingAck(): number {
    return this.#batches.size;
  }

  /** Non-GD messages waiting (and awaiting acknowledgement). */
  get ramDepth(): number {
    return this.#ram.depth;
  }

  /** Attaches a connection; unacknowledged messages are delivered again with their count raised. */
  async attach(target: PushTarget): Promise<void> {
    // Nothing is delivered until the requeue below is done: a message published meanwhile would otherwise go out
    // before the older ones the requeue makes deliverable again, out of order (a client library's restart test saw it).
    this.#target = undefined;
    this.#attaching = target;
    this.#paused = false;
    if (this.#detachedAt !== null) {
      this.#detachedAt = null;
      this.#events.stateChanged(this.sub);
    }
    // Both ack modes: with `write`, rows marked as sent but not removed are frames that may have gone out just before
    // a crash; they go again, with their count raised.
    // A requeue that fails still attaches (its error goes to the caller): as before, what is unsent is delivered.
    try {
      if (this.#sentSinceRequeue) await this.#gd.requeue(this.sub.subKey);
    } finally {
      this.#attached(target);
    }
  }

  #attached(target: PushTarget): void {
    // Detached, closed or attached elsewhere while the requeue ran: that later call decides.
    if (this.#attaching !== target || this.#closed) return;
    this.#attaching = undefined;
    this.#target = target;
    if (this.sub.ackMode === 'client') {
      this.#ram.requeueInFlight();
      this.#batches.clear();
    }
    this.#reader.gdArrived();
    this.wake();
  }

  /** The connection went away; messages wait for the next `attach`. */
  detach(now = Date.now()): void {
    this.#target = undefined;
    this.#attaching = undefined;
    this.#detachedAt ??= now;
    this.#events.stateChanged(this.sub);
  }

  /** Stops for good (unsubscribed). */
  close(): void {
    this.#closed = true;
    this.#target = undefined;
    this.#attaching = undefined;
    this.#ram.clear();
  }

  /**
   * Queues a non-GD message. A subscriber whose socket is backed up and whose queue is over the topic's
   * `maxDepthNonGd` is cut off as a slow consumer; so is any queue ten times over, whatever the reason. `fresh` is
   * the message's `freshQueued` entry, which a publisher fanning out makes once for every subscriber.
   */
  pushRam(message: PubSubMessage, fresh?: Queued): void {
    if (this.#closed) return;
    const depth = this.ramDepth;
    if ((depth >= this.#maxRam && (this.#paused || !this.#target)) || depth >= this.#maxRam * RAM_HARD_CAP_FACTOR) {
      if (this.#target) this.#events.slowConsumer(this.sub);
      this.#overflow.countDrop(1, false);
      return;
    }
    this.#ram.push(message, fresh);
    this.wake();
  }

  /** The subscription's GD queue limit and what it did not receive (see `Overflow`). */
  get overflow(): Overflow {
    return this.#overflow;
  }

  /** A GD message was queued for this subscription. */
  gdQueued(): void {
    this.#reader.gdArrived();
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
      if (this.#ram.acknowledge(msgId)) known = true;
      else gdIds.push(msgId);
    }
    if (gdIds.length) {
      this.#overflow.rowsRemoved(await this.#gd.acknowledge(this.sub.subKey, gdIds));
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
      // Closed meanwhile (unsubscribed, or claimed by another server): nothing left to retry.
      if (this.#closed) return;
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
        const fromRam = !this.#reader.gdMaybe;
        const batch = fromRam ? this.#reader.nextRamBatch(Date.now(), target) : await this.#reader.nextBatch(target);
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
      if (written.length) this.#overflow.rowsRemoved(await this.#gd.acknowledge(this.sub.subKey, written));
    }
  }

  // The batch was the queue's head (see `BatchReader.nextRamBatch`); it leaves the queue only once written.
  #afterRamSend(batch: Queued[]): void {
    this.#ram.shift(batch.length);
    for (const q of batch) this.#ram.delivered(q, this.sub.ackMode === 'client');
  }

  /** Writes one `zwsx.psrq` frame (see `PsrqEncoder`: assembled from bytes encoded once per message). */
  #send(target: PushTarget, batch: Queued[]): boolean {
    const single = batch.length === 1 && !this.sub.wrapOneMsgInList;
    // A single message's frame id is its msg_id (as in Zato); a batch gets its own id, which acknowledges it whole.
    const id = single ? batch[0]!.message.msgId : newCid();
    // Only a subscriber that acknowledges needs the frame id mapped to its messages; with ack_mode write nobody
    // ever answers, and remembering every frame would grow without end.
    if (!single && this.sub.ackMode === 'client')
      this.#batches.set(
        id,
        batch.map((q) => q.message.msgId),
      );
    // `deliveryCount` is the count before this delivery.
    return target.push(this.#encoder.frame(id, timestamp(), batch, single, 1));
  }

  // Commits the attempt (GD messages marked as sent, their count raised) before the frame is written, with the
  // removal of the previous frame's messages (ack mode `write`) in the same commit.
  async #beforeSend(batch: Queued[], written: string[]): Promise<void> {
    const gdIds = batch.filter((q) => q.message.hasGd).map((q) => q.message.msgId);
    if (!gdIds.length && !written.length) return;
    if (gdIds.length) this.#sentSinceRequeue = true;
    this.#overflow.rowsRemoved(await this.#gd.markDelivered(this.sub.subKey, gdIds, written));
  }

  // The frame was written: non-GD messages leave the memory queue; returns the GD ids to remove (ack mode `write`).
  // Messages published while the attempt committed may be queued ahead of the batch's non-GD ones: those are removed
  // as themselves, not as the queue's first n.
  #afterSend(batch: Queued[]): string[] {
    const gdIds: string[] = [];
    const ram: Queued[] = [];
    for (const q of batch) {
      if (q.message.hasGd) gdIds.push(q.message.msgId);
      else ram.push(q);
    }
    this.#ram.remove(ram);
    for (const q of ram) this.#ram.delivered(q, this.sub.ackMode === 'client');
    return this.sub.ackMode === 'write' ? gdIds : [];
  }
}

/** Queues a non-GD message for every task (`DeliveryTask.pushRam`), with one entry shared by all of them. */
export function pushRamToAll(tasks: Iterable<DeliveryTask>, message: PubSubMessage): void {
  const fresh = freshQueued(message);
  for (const task of tasks) task.pushRam(message, fresh);
}
