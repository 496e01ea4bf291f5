import type { Logger } from 'pino';
import type { PubSubRepository } from '../store/index.js';
import type { DeliveryTask } from './delivery-task.js';
import type { TopicDepths } from './depths.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import type { TopicCache } from './topic-cache.js';

const SWEEP_MS = 1000;

/** What housekeeping works on. */
export interface HousekeepingParts {
  readonly repository: Pick<PubSubRepository, 'deleteExpired' | 'saveState'>;
  readonly subscriptions: SubscriptionRegistry<DeliveryTask>;
  readonly depths: TopicDepths;
  readonly topics: TopicCache;
  /** Deletes a subscription and its queue. */
  remove(task: DeliveryTask): Promise<void>;
  /** Whether this server deletes expired messages (in a cluster, only the housekeeper does). */
  expiresHere(): boolean;
  readonly log: Logger;
}

/**
 * Pub/sub housekeeping, once a second: expired messages, subscriptions detached for longer than their topic's
 * `detachedTtl`, and the overflow state of the subscriptions that changed (persisted here, not on every change).
 */
export class Housekeeping {
  readonly #parts: HousekeepingParts;
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(parts: HousekeepingParts) {
    this.#parts = parts;
  }

  /** Sweeps every second from now on. */
  start(): void {
    this.#timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.#timer.unref();
  }

  /** Stops sweeping. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** A subscription's state changed: persisted at the next sweep. */
  changed(subKey: string): void {
    this.#dirty.add(subKey);
  }

  /** A subscription is gone: nothing of it to persist. */
  forget(subKey: string): void {
    this.#dirty.delete(subKey);
  }

  /** One round; errors are logged, the next round runs anyway. */
  async sweep(now = Date.now()): Promise<void> {
    try {
      await this.#deleteExpired(now);
      await this.#removeDetached(now);
      await this.saveStates();
    } catch (err) {
      this.#parts.log.error({ err }, 'Pub/sub housekeeping failed');
    }
  }

  /** Persists the state of every subscription that changed since the last round. */
  async saveStates(): Promise<void> {
    const keys = [...this.#dirty];
    this.#dirty.clear();
    for (const subKey of keys) {
      const task = this.#parts.subscriptions.get(subKey);
      if (task)
        await this.#parts.repository.saveState(subKey, {
          suspended: task.suspended,
          dropped: task.drops.dropped,
          detachedAt: task.detachedAt,
        });
    }
  }

  async #deleteExpired(now: number): Promise<void> {
    if (!this.#parts.expiresHere()) return;
    const { topics, rows } = await this.#parts.repository.deleteExpired(now);
    for (const [topic, t] of topics) {
      this.#parts.depths.subtract(topic, t.count, t.bytes);
      this.#parts.depths.countExpired(topic, t.count);
    }
    for (const [subKey, n] of rows) this.#parts.subscriptions.get(subKey)?.expiredRows(n);
  }

  async #removeDetached(now: number): Promise<void> {
    for (const task of [...this.#parts.subscriptions.all()]) {
      const since = task.detachedAt;
      if (since === null || task.target) continue;
      const ttl = (await this.#parts.topics.get(task.sub.topicName))?.detachedTtl ?? 0;
      if (now - since < ttl * 1000) continue;
      this.#parts.log.info(
        { subKey: task.sub.subKey, topic: task.sub.topicName, detachedAt: new Date(since).toISOString(), queued: task.gdDepth },
        'Subscription detached for longer than detachedTtl; deleted',
      );
      await this.#parts.remove(task);
    }
  }
}
