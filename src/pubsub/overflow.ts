import type { Logger } from 'pino';
import type { Deleted } from '../store/index.js';
import type { Subscription } from './subscription.js';

/** Counters of what a subscription did not receive, for the admin API and `/metrics`. */
export interface DropCounters {
  /** Messages dropped while the subscription was suspended (its queue at its limit), since it was created. */
  dropped: number;
  /** Of those, messages skipped because one frame holding them would exceed the channel's `maxMessageSize`. */
  tooLarge: number;
}

/** What the overflow state tells the subscription's owner. */
export interface OverflowEvents {
  /** Messages (and their data bytes) deleted from the store after this subscription's acknowledgements. */
  gdDeleted(topicName: string, count: number, bytes: number): void;
  /** Messages this subscription will not receive (overflow, or too large for its channel). */
  dropped(sub: Subscription, count: number, tooLarge: boolean): void;
  /** The overflow state or counters changed: persist them (cheaply, later). */
  stateChanged(sub: Subscription): void;
}

/**
 * One subscription's GD queue limit (docs/pubsub.md "Per-subscription limits"): the rows queued for it as counted in
 * memory, whether it is suspended at its limit, and what it did not receive.
 */
export class Overflow {
  readonly #sub: Subscription;
  readonly #events: OverflowEvents;
  readonly #log: Logger;
  #gdDepth: number;
  #suspended: boolean;
  #resumeBelow = 0;
  #version = 0;
  // Reserved GD messages whose commit has not ended yet: a store read cannot tell whether it saw them.
  #reserved = 0;
  readonly #drops: DropCounters;

  constructor(
    sub: Subscription,
    events: OverflowEvents,
    log: Logger,
    state: { gdDepth?: number; suspended?: boolean; dropped?: number },
  ) {
    this.#sub = sub;
    this.#events = events;
    this.#log = log;
    this.#gdDepth = state.gdDepth ?? 0;
    this.#suspended = state.suspended ?? false;
    this.#drops = { dropped: state.dropped ?? 0, tooLarge: 0 };
  }

  /** GD messages queued (sent and unacknowledged included). */
  get gdDepth(): number {
    return this.#gdDepth;
  }

  /** True while the queue is at its limit. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** What the subscription did not receive. */
  get drops(): Readonly<DropCounters> {
    return this.#drops;
  }

  /** Whether a new GD message may be queued: not suspended and below `limit` rows. */
  canTake(limit: number): boolean {
    return !this.#suspended && this.#gdDepth < limit;
  }

  /**
   * A GD message not taken (see `canTake`): at its limit the subscription is suspended, and this and every later
   * message is dropped (and counted) until the subscriber has worked its queue down to half the limit.
   */
  refuse(limit: number): void {
    if (!this.#suspended) {
      this.#suspended = true;
      this.#resumeBelow = Math.floor(limit / 2);
      this.#log.warn(
        { topic: this.#sub.topicName, queued: this.#gdDepth, limit },
        'Subscription at its queue limit; suspended, new messages for it are dropped',
      );
    }
    this.countDrop(1, false);
  }

  /** Counts `n` messages the subscription will not receive. */
  countDrop(n: number, tooLarge: boolean): void {
    this.#drops.dropped += n;
    if (tooLarge) this.#drops.tooLarge += n;
    this.#events.dropped(this.#sub, n, tooLarge);
    this.#events.stateChanged(this.#sub);
  }

  /** Raised by every local change of the count (see `resync`). */
  get version(): number {
    return this.#version;
  }

  /** A GD message is being committed for the subscription: counted now, so concurrent publishers cannot overshoot. */
  reserve(): void {
    this.#version++;
    this.#reserved++;
    this.#gdDepth += 1;
  }

  /** A reserved GD message was committed (it stays counted). */
  committed(): void {
    this.#version++;
    this.#reserved = Math.max(0, this.#reserved - 1);
  }

  /** A reserved GD message was not committed after all. */
  release(): void {
    this.#version++;
    this.#reserved = Math.max(0, this.#reserved - 1);
    this.#gdDepth = Math.max(0, this.#gdDepth - 1);
  }

  /**
   * Sets the count to the queue rows read from the store (in a cluster, other servers queue rows for us too), unless
   * the count changed here since `version` was read or a reserved message is still being committed (the read may or
   * may not have seen it: taking the rows then lost one, and the limit was passed by one); at `limit` or over, the
   * subscription is suspended, which the other servers' publications see once the state is saved.
   */
  resync(rows: number, version: number, limit: number): void {
    if (version !== this.#version || this.#reserved > 0) return;
    this.#gdDepth = rows;
    if (this.#suspended || rows < limit) return;
    this.#suspended = true;
    this.#resumeBelow = Math.floor(limit / 2);
    this.#log.warn({ topic: this.#sub.topicName, queued: rows, limit }, 'Subscription at its queue limit; suspended');
    this.#events.stateChanged(this.#sub);
  }

  /** Rows left the queue: below the low-water mark a suspended subscription takes new messages again. */
  rowsRemoved(deleted: Deleted): void {
    this.#version++;
    this.#gdDepth = Math.max(0, this.#gdDepth - deleted.rows);
    if (deleted.messages) this.#events.gdDeleted(this.#sub.topicName, deleted.messages, deleted.bytes);
    if (this.#suspended && this.#gdDepth <= this.#resumeBelow) {
      this.#suspended = false;
      this.#log.info(
        { topic: this.#sub.topicName, dropped: this.#drops.dropped },
        'Subscription below its low-water mark; receiving again',
      );
      this.#events.stateChanged(this.#sub);
    }
  }
}
