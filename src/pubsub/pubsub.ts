import type { Logger } from 'pino';
import type { ChannelManager, ClientClosedEvent, ClientResponseEvent } from '../channels/wsx/index.js';
import { NotFoundError, PayloadTooLargeError, SwitchboardError } from '../errors/index.js';
import { CLOSE_CODE } from '../protocol/index.js';
import {
  ConfigRepository,
  createPubSubRepository,
  type ConfigChange,
  type PubSubRepository,
  type Store,
  type StoredSubscription,
  type SubscriptionState,
} from '../store/index.js';
import type { PubSubCluster } from './cluster-port.js';
import { ClusterSync } from './cluster-sync.js';
import { FencedStore } from './fenced-store.js';
import { checkOwner } from './ownership.js';
import { withTopicDefaults, type TopicConfig } from './config.js';
import { DeliveryTask, pushRamToAll } from './delivery-task.js';
import { publishGd } from './gd-admission.js';
import { TopicDepths } from './depths.js';
import { Housekeeping } from './housekeeping.js';
import { buildMessage, messageView, type MessageView, type PublishInput } from './message.js';
import { newSubscription, type SubscribeOptions, type Subscription } from './subscription.js';
import { SeqAllocator } from './seq-allocator.js';
import { SubscriptionRegistry } from './subscriptions.js';
import { TopicCache } from './topic-cache.js';
import { queueDepth, subscriptionView, topicDepth, type Caller, type SubscriptionView, type TopicDepth } from './views.js';

export type { Caller, SubscriptionView, TopicDepth } from './views.js';

/**
 * Publish/subscribe over WebSockets (DESIGN.md §6): topics from the store, GD messages in the store's pub/sub
 * repository, non-GD ones in memory, one ordered delivery task per subscription.
 */
export class PubSub {
  readonly topics: ConfigRepository<TopicConfig>;
  readonly #store: Store;
  readonly #repo: PubSubRepository<Subscription>;
  readonly #channels: ChannelManager;
  readonly #log: Logger;
  readonly #subs = new SubscriptionRegistry<DeliveryTask>();
  readonly #depths = new TopicDepths();
  readonly #topics: TopicCache;
  readonly #housekeeping: Housekeeping;
  readonly #seqs: SeqAllocator;
  #sync: ClusterSync | undefined;

  readonly #onClosed = (e: ClientClosedEvent) =>
    void this.#clientClosed(e).catch((err: unknown) => this.#log.error({ err }, 'Unsubscribing a closed client failed'));
  readonly #onResponse = (e: ClientResponseEvent) =>
    void this.#clientResponse(e).catch((err: unknown) => this.#log.error({ err }, 'Acknowledgement failed'));
  readonly #onChange = (change: ConfigChange) => {
    if (change.kind !== 'topic') return;
    this.#topics.invalidate(change.name);
    if (!change.current) void this.#dropTopic(change.name);
  };

  constructor(options: { store: Store; channels: ChannelManager; logger: Logger; repository?: PubSubRepository<Subscription> }) {
    this.#store = options.store;
    this.#repo = options.repository ?? createPubSubRepository<Subscription>(options.store);
    this.#channels = options.channels;
    this.#log = options.logger.child({ part: 'pubsub' });
    this.topics = new ConfigRepository<TopicConfig>(options.store, 'topic');
    this.#topics = new TopicCache(this.topics);
    this.#seqs = new SeqAllocator({
      reserve: () => this.#repo.reserveSeqBlock(),
      prefetchFailed: (err) => this.#log.warn({ err }, 'Reserving sequence numbers failed; the next publish tries again'),
    });
    this.#housekeeping = new Housekeeping({
      repository: this.#repo,
      subscriptions: this.#subs,
      depths: this.#depths,
      topics: this.#topics,
      remove: (task) => this.#deleteSubscription(task, true),
      expiresHere: () => this.#sync?.housekeeper ?? true,
      log: this.#log,
    });
  }

  /**
   * Takes part in a cluster (PostgreSQL; before `start`): GD fan-out in SQL to every server's subscriptions, delivery
   * by the server holding the subscriber's socket, non-GD sent once to the others (docs/cluster.md).
   */
  useCluster(cluster: PubSubCluster): void {
    const store = this.#repo.cluster;
    if (!store) throw new SwitchboardError('not_supported', 'Pub/sub across servers needs the PostgreSQL store');
    this.#sync = new ClusterSync({
      cluster,
      store,
      subscriptions: this.#subs,
      depths: this.#depths,
      topics: this.#topics,
      repository: this.#repo,
      create: async (c) => {
        const maxRam = await this.#maxRam(c.subscription.topicName);
        return this.#addTask(c.subscription, maxRam, { ...c.state, gdDepth: c.queued, requeued: true }, c.epoch);
      },
      drop: (task, why) => this.#stopTask(task, why),
      log: this.#log,
    });
  }

  /** Loads subscriptions (in a cluster: adopts the ownerless ones) and depths, and follows client and topic events. */
  async start(): Promise<void> {
    await this.#seqs.start();
    this.#depths.load(await this.#repo.topicTotals());
    if (this.#sync) {
      for (const c of (await this.#repo.cluster?.adoptOwnerless(this.#sync.serverId)) ?? [])
        await this.#restore(c, c.queued, c.epoch);
    } else {
      const queued = await this.#repo.queueDepths();
      for (const stored of await this.#repo.listSubscriptions())
        await this.#restore(stored, queued.get(stored.subscription.subKey) ?? 0);
    }
    this.#channels.on('client-closed', this.#onClosed);
    this.#channels.on('client-response', this.#onResponse);
    this.#store.on('change', this.#onChange);
    this.#housekeeping.start();
    this.#sync?.start();
  }

  // Nothing is attached after a start; a subscription detached before keeps its time, the others start now.
  async #restore({ subscription: sub, state }: StoredSubscription<Subscription>, gdDepth: number, epoch?: number): Promise<void> {
    this.#addTask(
      sub,
      await this.#maxRam(sub.topicName),
      { ...state, detachedAt: state.detachedAt ?? Date.now(), gdDepth },
      epoch,
    );
    if (state.detachedAt === null) this.#housekeeping.changed(sub.subKey);
  }

  async #maxRam(topicName: string): Promise<number> {
    return (await this.#topics.get(topicName))?.maxDepthNonGd ?? withTopicDefaults({ name: topicName }).maxDepthNonGd;
  }

  async close(): Promise<void> {
    this.#sync?.stop();
    this.#housekeeping.stop();
    await this.#housekeeping.saveStates().catch((err: unknown) => this.#log.error({ err }, 'Saving subscription states failed'));
    this.#channels.off('client-closed', this.#onClosed);
    this.#channels.off('client-response', this.#onResponse);
    this.#store.off('change', this.#onChange);
    for (const task of this.#subs.all()) task.detach();
    await this.#repo.drain();
  }

  /**
   * Publishes one message; resolves with its `msg_id` once it is safe: a GD message after its transaction
   * committed, a non-GD one once queued in memory.
   */
  async publish(topicName: string, input: PublishInput): Promise<string> {
    const topic = await this.#topics.active(topicName);
    // Synchronous unless the block ran out: a publication's seq follows its publish call's order on this server.
    const seq = this.#seqs.take() ?? (await this.#seqs.next());
    const message = buildMessage(topic, input, seq, Date.now());
    if (message.size > topic.maxMessageSize) {
      throw new PayloadTooLargeError(
        'message_too_large',
        `The message's data is ${message.size} bytes; topic ${topic.name} takes at most ${topic.maxMessageSize} (maxMessageSize)`,
      );
    }
    const tasks = this.#subs.ofTopic(topicName);
    this.#depths.published(topicName, message.pubTime);
    const elsewhere = this.#sync?.subscribedElsewhere(topicName) ?? false;
    if (tasks.length === 0 && !elsewhere && topic.onNoSubsPub === 'drop') return message.msgId;
    if (!message.hasGd) {
      // Non-GD: a subscriber over `maxDepthNonGd` loses the message (counted; a connected one is cut off as a slow
      // consumer), the publisher is never refused because of it. Other servers get it once, at most.
      pushRamToAll(tasks, message);
      if (elsewhere) this.#sync?.announceNonGd(message);
      return message.msgId;
    }
    const cluster = this.#sync && { elsewhere, others: elsewhere || this.#sync.peers };
    await publishGd({ repository: this.#repo, depths: this.#depths, cluster }, topic, message, tasks);
    // Only servers with subscriptions to the topic have anything to wake.
    if (elsewhere) this.#sync?.announceGd(topic.name);
    return message.msgId;
  }

  /** Subscribes the calling client; subscribing again to the same topic returns the existing subscription. */
  async subscribe(
    topicName: string,
    caller: Caller,
    options: SubscribeOptions = {},
  ): Promise<{ subKey: string; currentDepth: number }> {
    const topic = await this.#topics.active(topicName);
    const existing = this.#subs.find(topicName, caller.pubClientId);
    if (existing) return { subKey: existing.sub.subKey, currentDepth: queueDepth(existing) };
    const target = this.#target(caller);
    const sub = newSubscription(topicName, { ...caller, securityName: target.securityName }, options);
    if (this.#sync) await this.#repo.cluster?.createOwned(sub, this.#sync.serverId);
    else await this.#repo.createSubscription(sub);
    const task = this.#addTask(sub, topic.maxDepthNonGd, {}, this.#sync ? 1 : undefined);
    this.#sync?.announceSubscribed(topicName);
    this.#subs.attach(task, target.pubClientId);
    await task.attach(target);
    return { subKey: sub.subKey, currentDepth: 0 };
  }

  /** Reattaches a subscription to the calling client; everything not yet acknowledged is delivered. */
  async resume(subKey: string, caller: Caller): Promise<{ subKey: string; currentDepth: number }> {
    const task = this.#sync
      ? await this.#sync.claim(subKey, (sub, attached) => this.#checkOwner(sub, attached, caller))
      : this.#requireTask(subKey);
    if (!this.#sync) this.#checkOwner(task.sub, task.target?.pubClientId, caller);
    const target = this.#target(caller);
    this.#subs.attach(task, target.pubClientId);
    await task.attach(target);
    return { subKey, currentDepth: queueDepth(task) };
  }

  /** Deletes a subscription; only its owner (the attached client, or the same client_id) may. */
  async unsubscribe(subKey: string, caller: Caller | undefined): Promise<void> {
    const task = this.#subs.get(subKey);
    if (!task && this.#sync) return this.#sync.unsubscribe(subKey, caller && ((sub) => this.#checkOwner(sub, undefined, caller)));
    if (!task) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
    if (caller) this.#checkOwner(task.sub, task.target?.pubClientId, caller);
    await this.#deleteSubscription(task);
  }

  /** A topic's depth and activity. */
  async depth(topicName: string): Promise<TopicDepth> {
    await this.topics.require(topicName);
    return topicDepth(topicName, this.#subs.ofTopic(topicName), this.#depths);
  }

  /** Every subscription with its subscriber, queue depth and overflow state. */
  subscriptions(): SubscriptionView[] {
    return [...this.#subs.all()].map(subscriptionView).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** One subscription's view; throws `subscription_not_found`. */
  subscription(subKey: string): SubscriptionView {
    return subscriptionView(this.#requireTask(subKey));
  }

  /** Messages dropped for subscribers since start, per topic (for `/metrics`). */
  droppedByTopic(): ReadonlyMap<string, number> {
    return this.#depths.dropped;
  }

  /** A page of a topic's stored GD messages. */
  async browse(topicName: string, afterSeq = 0, limit = 50): Promise<MessageView[]> {
    await this.topics.require(topicName);
    return (await this.#repo.browse(topicName, afterSeq, Math.min(Math.max(limit, 1), 500))).map(messageView);
  }

  /** Resolves once every GD write queued so far has committed. */
  drain(): Promise<void> {
    return this.#repo.drain();
  }

  #addTask(
    sub: Subscription,
    maxRam: number,
    state: Partial<SubscriptionState> & { gdDepth?: number; requeued?: boolean } = {},
    epoch?: number,
  ): DeliveryTask {
    const fence = epoch === undefined ? undefined : this.#sync?.fence(sub.subKey, epoch);
    // In a cluster every delivery-state write carries the owner epoch; a refused one stops the task.
    const repository = fence
      ? new FencedStore(this.#repo, fence, () => this.#stopTask(task, 'Subscription claimed by another server; stopped here'))
      : this.#repo;
    const task: DeliveryTask = new DeliveryTask(sub, {
      repository,
      logger: this.#log,
      maxRam,
      ...state,
      events: {
        expired: (topic, n) => this.#depths.countExpired(topic, n),
        gdDeleted: (topic, n, bytes) => this.#depths.subtract(topic, n, bytes),
        slowConsumer: (s) => this.#slowConsumer(s),
        dropped: (s, n) => this.#depths.countDropped(s.topicName, n),
        stateChanged: (s) => this.#housekeeping.changed(s.subKey),
      },
    });
    this.#subs.add(task);
    return task;
  }

  #requireTask(subKey: string): DeliveryTask {
    const task = this.#subs.get(subKey);
    if (!task) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
    return task;
  }

  #checkOwner = (sub: Subscription, attached: string | undefined, caller: Caller) =>
    checkOwner(sub, attached, caller, this.#target(caller).securityName);

  #target(caller: Caller) {
    return this.#channels.channel(caller.channelName).pushTarget(caller.pubClientId);
  }

  // Stops a local task and forgets it, touching nothing stored (the subscription lives on elsewhere, or is gone).
  #stopTask(task: DeliveryTask, why: string): void {
    if (this.#subs.get(task.sub.subKey) !== task) return;
    this.#log.info({ subKey: task.sub.subKey }, why);
    this.#forget(task);
  }

  #forget(task: DeliveryTask): void {
    task.close();
    this.#subs.remove(task);
    this.#housekeeping.forget(task.sub.subKey);
    this.#sync?.forget(task.sub.subKey);
  }

  // `fenced`: deleted for this server's own reasons (its subscriber closed, detachedTtl), so only while still ours.
  async #deleteSubscription(task: DeliveryTask, fenced = false): Promise<void> {
    const epoch = fenced ? this.#sync?.epochOf(task.sub.subKey) : undefined;
    this.#forget(task);
    const deleted = await this.#repo.dropQueue(task.sub.subKey, epoch);
    this.#depths.subtract(task.sub.topicName, deleted.messages, deleted.bytes);
  }

  async #clientClosed(e: ClientClosedEvent): Promise<void> {
    for (const task of this.#subs.ofClient(e.pubClientId)) {
      if (task.target?.pubClientId !== e.pubClientId) continue;
      if (task.sub.unsubOnWsxClose) {
        await this.#deleteSubscription(task, true);
        continue;
      }
      this.#subs.detach(task);
      task.detach();
    }
  }

  // Only the client's own subscriptions that acknowledge: no scan of every subscription on every ack.
  async #clientResponse(e: ClientResponseEvent): Promise<void> {
    for (const task of this.#subs.ofClient(e.pubClientId)) {
      if (task.target?.pubClientId !== e.pubClientId || task.sub.ackMode !== 'client') continue;
      if (await task.acknowledge(e.inReplyTo)) return;
    }
  }

  #slowConsumer(sub: Subscription): void {
    this.#log.warn({ subKey: sub.subKey, topic: sub.topicName }, 'Non-GD subscriber too far behind; disconnecting it');
    this.#subs.get(sub.subKey)?.target?.close(CLOSE_CODE.SLOW_CONSUMER, 'Slow consumer');
  }

  async #dropTopic(name: string): Promise<void> {
    for (const task of this.#subs.ofTopic(name)) await this.#deleteSubscription(task);
    await this.#repo.deleteTopic(name);
    this.#depths.forget(name);
  }
}
