import { psrqMessageHead } from '../protocol/index.js';
import type { PubSubMessage } from './message.js';
import { PriorityQueues } from './priority-queues.js';

/** A message waiting for one subscriber, with how often it was delivered to it. */
export interface Queued {
  readonly message: PubSubMessage;
  readonly deliveryCount: number;
  /** The message's encoded head (`psrqMessageHead`), looked up once when queued in memory. */
  readonly head?: Buffer;
}

/**
 * A message's entry before its first delivery, made once per publication and queued as the same object for every
 * subscriber (fan-out: no allocation per subscriber per message). Entries are never changed: a delivery that must be
 * remembered (ack mode `client`) is a new entry of that subscriber's.
 */
export function freshQueued(message: PubSubMessage): Queued {
  return { message, deliveryCount: 0, head: psrqMessageHead(message) };
}

/**
 * One subscription's non-GD messages: waiting ones in per-priority FIFO queues, and (ack mode `client`) the ones
 * delivered and not yet acknowledged. Expiry and the frame-size check keep a bound (the earliest expiry, the largest
 * message) so that a batch only walks the queue when something in it really expired or is too large.
 */
export class RamQueue {
  readonly #waiting = new PriorityQueues<Queued>((q) => q.message);
  readonly #inFlight = new Map<string, Queued>();
  // No waiting message expires before this (a lower bound: delivered ones are not taken out of it).
  #expiresAt = Infinity;
  // No waiting message's encoded head is longer than this (an upper bound, for the same reason).
  #largestHead = 0;

  /** Messages waiting and awaiting acknowledgement. */
  get depth(): number {
    return this.#waiting.size + this.#inFlight.size;
  }

  /** Queues a message behind the others of its priority (`fresh`: its `freshQueued` entry, when the caller has it). */
  push(message: PubSubMessage, fresh: Queued = freshQueued(message)): void {
    this.#waiting.push(this.#track(fresh));
  }

  /** Up to `n` waiting messages in delivery order, left in place until `shift` or `remove`. */
  peek(n: number): Queued[] {
    return this.#waiting.peek(n);
  }

  /** Removes the first `n` waiting messages (what `peek(n)` returned, with nothing queued in between). */
  shift(n: number): void {
    this.#waiting.shift(n);
  }

  /** Removes these waiting messages, wherever newer ones were queued meanwhile. */
  remove(items: readonly Queued[]): void {
    this.#waiting.removeHeads(items);
  }

  /** A message was written; with `awaitAck` it is kept until the subscriber acknowledges it. */
  delivered(q: Queued, awaitAck: boolean): void {
    if (awaitAck) this.#inFlight.set(q.message.msgId, { message: q.message, deliveryCount: q.deliveryCount + 1, head: q.head });
  }

  /** The subscriber acknowledged a message; false when it was not awaiting acknowledgement here. */
  acknowledge(msgId: string): boolean {
    return this.#inFlight.delete(msgId);
  }

  /** Messages delivered and not acknowledged wait again, in their places (a new connection gets them again). */
  requeueInFlight(): void {
    if (!this.#inFlight.size) return;
    const items = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const q of items) this.#track(q);
    this.#waiting.putBack(items);
  }

  /** Drops the waiting messages expired at `now`; returns how many. */
  dropExpired(now: number): number {
    if (now < this.#expiresAt) return 0;
    let earliest = Infinity;
    const removed = this.#waiting.retain((q) => {
      if (q.message.expirationTime <= now) return false;
      earliest = Math.min(earliest, q.message.expirationTime);
      return true;
    });
    this.#expiresAt = earliest;
    return removed;
  }

  /** Drops the waiting messages whose encoded head is over `maxHead` bytes; returns how many. */
  dropLargerThan(maxHead: number): number {
    if (this.#largestHead <= maxHead) return 0;
    let largest = 0;
    const removed = this.#waiting.retain((q) => {
      const bytes = psrqMessageHead(q.message).length;
      if (bytes > maxHead) return false;
      largest = Math.max(largest, bytes);
      return true;
    });
    this.#largestHead = largest;
    return removed;
  }

  /** Forgets everything. */
  clear(): void {
    this.#waiting.clear();
    this.#inFlight.clear();
    this.#expiresAt = Infinity;
    this.#largestHead = 0;
  }

  #track(q: Queued): Queued {
    this.#expiresAt = Math.min(this.#expiresAt, q.message.expirationTime);
    this.#largestHead = Math.max(this.#largestHead, (q.head ?? psrqMessageHead(q.message)).length);
    return q;
  }
}
