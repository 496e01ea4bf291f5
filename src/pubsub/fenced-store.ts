import { NotFoundError } from '../errors/index.js';
import type { Deleted, PubSubRepository, QueuedGdMessage } from '../store/index.js';
import type { DeliveryStore } from './delivery-task.js';

/** The owner epoch a task delivers under; a claim on this server raises it in place. */
export interface Fence {
  epoch: number;
  /** Claims of this server in progress: a write they refuse is not a move to another server. */
  claiming: number;
}

/**
 * A delivery task's store in a cluster: every delivery-state write carries the task's owner epoch, and one that
 * comes back `moved` (another server claimed the subscription) stops the task before anything is sent
 * (cluster-notes §3.7). A write refused because this server itself claimed again meanwhile is only retried.
 */
export class FencedStore implements DeliveryStore {
  readonly #repo: PubSubRepository;
  readonly #fence: Fence;
  readonly #moved: () => void;

  constructor(repo: PubSubRepository, fence: Fence, moved: () => void) {
    this.#repo = repo;
    this.#fence = fence;
    this.#moved = moved;
  }

  nextBatch(subKey: string, limit: number): Promise<QueuedGdMessage[]> {
    return this.#repo.nextBatch(subKey, limit);
  }

  async markDelivered(subKey: string, msgIds: readonly string[], done: readonly string[]): Promise<Deleted> {
    const epoch = this.#fence.epoch;
    return this.#checked(subKey, epoch, await this.#repo.markDelivered(subKey, msgIds, done, epoch));
  }

  async acknowledge(subKey: string, msgIds: readonly string[]): Promise<Deleted> {
    const epoch = this.#fence.epoch;
    return this.#checked(subKey, epoch, await this.#repo.acknowledge(subKey, msgIds, epoch));
  }

  async requeue(subKey: string): Promise<boolean> {
    const epoch = this.#fence.epoch;
    const owned = await this.#repo.requeue(subKey, epoch);
    if (!owned) this.#checked(subKey, epoch, { rows: 0, messages: 0, bytes: 0, moved: true });
    return owned;
  }

  #checked(subKey: string, epoch: number, result: Deleted): Deleted {
    if (!result.moved) return result;
    if (epoch === this.#fence.epoch && this.#fence.claiming === 0) this.#moved();
    throw new NotFoundError('subscription_not_found', `Subscription ${subKey} is delivered by another server now`);
  }
}
