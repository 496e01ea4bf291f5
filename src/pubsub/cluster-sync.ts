import type { Logger } from 'pino';
import { NotFoundError } from '../errors/index.js';
import type { ClaimedSubscription, OwnedState, PubSubClusterStore, PubSubMessage, PubSubRepository } from '../store/index.js';
import type { PubSubCluster } from './cluster-port.js';
import { pushRamToAll, type DeliveryTask } from './delivery-task.js';
import type { TopicDepths } from './depths.js';
import type { Fence } from './fenced-store.js';
import { subLimit } from './gd-admission.js';
import type { Subscription } from './subscription.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import type { TopicCache } from './topic-cache.js';

/** What the cluster side of pub/sub works on. */
export interface ClusterSyncParts {
  readonly cluster: PubSubCluster;
  readonly store: PubSubClusterStore<Subscription>;
  readonly subscriptions: SubscriptionRegistry<DeliveryTask>;
  readonly depths: TopicDepths;
  readonly topics: TopicCache;
  readonly repository: PubSubRepository<Subscription>;
  /** Makes the local task of a subscription this server claimed. */
  create(claimed: ClaimedSubscription<Subscription>): Promise<DeliveryTask>;
  /** Stops a local task, touching nothing stored: its subscription moved to another server or was deleted there. */
  drop(task: DeliveryTask, why: string): void;
  readonly log: Logger;
}

/**
 * Pub/sub's part in a cluster (cluster-notes §3.7): the owner epoch of every local task, the wake-ups from other
 * servers (GD committed, non-GD published, a subscription claimed), and a sweep every `sweepMs` as the floor under
 * NOTIFY: owned subscriptions with undelivered rows are woken, tasks whose subscription moved or went are stopped,
 * queue counts and topic depths are read again, and the housekeeper cleans up ownerless subscriptions.
 */
export class ClusterSync {
  readonly #p: ClusterSyncParts;
  readonly #fences = new Map<string, Fence>();
  // Subscriptions other servers queued rows for since the last sweep: their count is read again.
  readonly #touched = new Set<string>();
  #elsewhere = new Set<string>();
  #peers = true;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(parts: ClusterSyncParts) {
    this.#p = parts;
  }

  get serverId(): string {
    return this.#p.cluster.serverId;
  }

  /** Whether this server runs expiry (the housekeeper). */
  get housekeeper(): boolean {
    return this.#p.cluster.isHousekeeper();
  }

  /** Follows the other servers and sweeps from now on. */
  start(): void {
    void this.sweep();
    this.#p.cluster.listen({
      gd: (topics) => this.#gdArrived(topics),
      nonGd: (message) => this.#nonGdArrived(message),
      subscribed: (topic) => this.#elsewhere.add(topic),
      claimed: (subKey, epoch) => this.#claimedElsewhere(subKey, epoch),
      resync: () => void this.sweep(),
    });
    this.#timer = setInterval(() => void this.sweep(), this.#p.cluster.sweepMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The fence of a local task, set to `epoch` (created, or raised by a claim on this server). */
  fence(subKey: string, epoch: number): Fence {
    const fence = this.#fences.get(subKey) ?? { epoch, claiming: 0 };
    fence.epoch = epoch;
    this.#fences.set(subKey, fence);
    return fence;
  }

  /** The owner epoch of a local task, if it has one. */
  epochOf(subKey: string): number | undefined {
    return this.#fences.get(subKey)?.epoch;
  }

  /** The task is gone from this server. */
  forget(subKey: string): void {
    this.#fences.delete(subKey);
    this.#touched.delete(subKey);
  }

  /**
   * Whether other servers are registered (as of the last sweep): while none is, a GD publication is queued for this
   * server's subscriptions alone, as on a single server, unless `subscribedElsewhere` says otherwise.
   */
  get peers(): boolean {
    return this.#peers;
  }

  /**
   * Whether the topic has a subscription this server does not deliver (as of the last sweep, or another server's
   * announcement of a new one): a publication then goes to the store even when no local subscription takes it.
   */
  subscribedElsewhere(topic: string): boolean {
    return this.#elsewhere.has(topic);
  }

  announceGd(topic: string): void {
    this.#p.cluster.announceGd(topic);
  }

  announceNonGd(message: PubSubMessage): void {
    this.#p.cluster.announceNonGd(message);
  }

  announceSubscribed(topic: string): void {
    this.#p.cluster.announceSubscribed(topic);
  }

  announceClaim(subKey: string, epoch: number): void {
    this.#p.cluster.announceClaim(subKey, epoch);
  }

  /**
   * Moves delivery to this server (cluster-notes §3.7) once `allowed` accepted the caller: the claim raises the
   * epoch, so the previous owner's next delivery-state write changes nothing and stops its task; what it sent and
   * nobody removed goes out again. Resolves with the local task, made or kept.
   */
  async claim(subKey: string, allowed: (sub: Subscription, attached: string | undefined) => void): Promise<DeliveryTask> {
    const local = this.#p.subscriptions.get(subKey);
    const stored = local?.sub ?? (await this.#p.repository.getSubscription(subKey))?.subscription;
    if (!stored) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
    allowed(stored, local?.target?.pubClientId);
    const fence = this.#fences.get(subKey);
    // This server's own task keeps delivering meanwhile: a write refused by this claim is retried, not a move.
    if (fence) fence.claiming++;
    try {
      const claimed = await this.#p.store.claim(subKey, this.serverId);
      if (!claimed) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
      this.announceClaim(subKey, claimed.epoch);
      const task = this.#p.subscriptions.get(subKey);
      if (!task) return await this.#p.create(claimed);
      this.fence(subKey, claimed.epoch);
      // The count as the claim read it (other servers queued for it too); suspension is the sweep's to decide.
      task.overflow.resync(claimed.queued, task.overflow.version, Number.MAX_SAFE_INTEGER);
      return task;
    } finally {
      if (fence) fence.claiming--;
    }
  }

  /** Deletes a subscription that has no task here (another server's, or ownerless); its owner's sweep stops its task. */
  async unsubscribe(subKey: string, allowed: ((sub: Subscription) => void) | undefined): Promise<void> {
    const stored = await this.#p.repository.getSubscription(subKey);
    if (!stored) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
    allowed?.(stored.subscription);
    const deleted = await this.#p.repository.dropQueue(subKey);
    this.#p.depths.subtract(stored.subscription.topicName, deleted.messages, deleted.bytes);
  }

  /** One sweep (one at a time); errors are logged, the next sweep runs anyway. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep()
      .catch((err: unknown) => this.#p.log.error({ err }, 'Pub/sub cluster sweep failed'))
      .finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweep(): Promise<void> {
    const tasks = [...this.#p.subscriptions.all()];
    const versions = new Map(tasks.map((t) => [t.sub.subKey, t.overflow.version]));
    const touched = new Set(this.#touched);
    this.#touched.clear();
    const states = new Map((await this.#p.store.owned(tasks.map((t) => t.sub.subKey))).map((s) => [s.subKey, s]));
    for (const task of tasks) {
      const state = states.get(task.sub.subKey);
      if (!state) this.#p.drop(task, 'Subscription deleted on another server; stopped here');
      else await this.#check(task, state, touched.has(task.sub.subKey) ? versions.get(task.sub.subKey) : undefined);
    }
    const depthVersions = this.#p.depths.versions();
    this.#p.depths.sync(await this.#p.store.depths(), depthVersions);
    this.#elsewhere = await this.#p.store.subscribedElsewhere(this.serverId);
    this.#peers = await this.#p.store.peers(this.serverId);
    if (this.housekeeper) {
      await this.#cleanOwnerless(Date.now());
      await this.#p.store.foldDepths();
    }
  }

  /**
   * The housekeeper's part of a dead server's subscriptions: an `unsub_on_wsx_close` one ownerless for `orphanTtlMs`
   * (its subscriber may resume it elsewhere meanwhile) and any one detached for longer than its topic's
   * `detachedTtl` are deleted, as their owner would have done.
   */
  async #cleanOwnerless(now: number): Promise<void> {
    for (const sub of await this.#p.store.ownerless(now)) {
      const ttlMs = sub.unsubOnWsxClose
        ? this.#p.cluster.orphanTtlMs
        : ((await this.#p.topics.get(sub.topicName))?.detachedTtl ?? Infinity) * 1000;
      if (now - sub.detachedAt < ttlMs || !(await this.#p.store.deleteOwnerless(sub.subKey))) continue;
      this.#p.log.info(
        { subKey: sub.subKey, topic: sub.topicName, detachedAt: new Date(sub.detachedAt).toISOString() },
        sub.unsubOnWsxClose
          ? 'Deleted an unsub_on_wsx_close subscription left ownerless by a dead server'
          : 'Deleted a subscription of a dead server detached for longer than detachedTtl',
      );
    }
  }

  async #check(task: DeliveryTask, state: OwnedState, version: number | undefined): Promise<void> {
    const fence = this.#fences.get(task.sub.subKey);
    // A claim by this server is in flight: the state read may already carry its epoch, which the fence gets only
    // when the claim returns. Dropping the task then would drop this server's own resumed subscriber (and its RAM queue).
    if (fence?.claiming) return;
    if (fence && state.epoch !== fence.epoch) {
      if (state.epoch > fence.epoch) this.#p.drop(task, 'Subscription claimed by another server; stopped here');
      return;
    }
    if (version !== undefined) {
      const topic = await this.#p.topics.get(task.sub.topicName);
      if (topic) task.overflow.resync(state.queued, version, subLimit(task, topic));
    }
    if (state.pending) task.gdQueued();
  }

  #gdArrived(topics: readonly string[] | '*'): void {
    const tasks = topics === '*' ? [...this.#p.subscriptions.all()] : topics.flatMap((t) => this.#p.subscriptions.ofTopic(t));
    for (const task of tasks) {
      this.#touched.add(task.sub.subKey);
      task.gdQueued();
    }
  }

  #nonGdArrived(message: PubSubMessage): void {
    pushRamToAll(this.#p.subscriptions.ofTopic(message.topicName), message);
  }

  #claimedElsewhere(subKey: string, epoch: number): void {
    const task = this.#p.subscriptions.get(subKey);
    const fence = this.#fences.get(subKey);
    if (task && fence && !fence.claiming && fence.epoch < epoch)
      this.#p.drop(task, 'Subscription claimed by another server; stopped here');
  }
}
