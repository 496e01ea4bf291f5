import type { Logger } from 'pino';
import type { ChannelManager, ClientClosedEvent, ClientResponseEvent } from '../channels/wsx/index.js';
import { ForbiddenError, NotFoundError, PayloadTooLargeError } from '../errors/index.js';
import { CLOSE_CODE } from '../protocol/index.js';
import {
  ConfigRepository,
  createPubSubRepository,
  type ConfigChange,
  type PubSubRepository,
  type Store,
  type SubscriptionState,
} from '../store/index.js';
import { withTopicDefaults, type TopicConfig } from './config.js';
import { DeliveryTask } from './delivery-task.js';
import { admitGd, cancelGd } from './gd-admission.js';
import { TopicDepths } from './depths.js';
import { Housekeeping } from './housekeeping.js';
import { buildMessage, messageView, type MessageView, type PubSubMessage, type PublishInput } from './message.js';
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
      remove: (task) => this.#deleteSubscription(task),
      log: this.#log,
    });
  }

  /** Loads subscriptions and depths, and follows client and topic events. */
  async start(): Promise<void> {
    await this.#seqs.start();
    this.#depths.load(await this.#repo.topicTotals());
    const queued = await this.#repo.queueDepths();
    const now = Date.now();
    for (const { subscription: sub, state } of await this.#repo.listSubscriptions()) {
      // Nothing is attached after a start; a subscription detached before keeps its time, the others start now.
      const detachedAt = state.detachedAt ?? now;
      const maxRam =
        (await this.#topics.get(sub.topicName))?.maxDepthNonGd ?? withTopicDefaults({ name: sub.topicName }).maxDepthNonGd;
      this.#addTask(sub, maxRam, { ...state, detachedAt, gdDepth: queued.get(sub.subKey) ?? 0 });
      if (state.detachedAt === null) this.#housekeeping.changed(sub.subKey);
    }
    this.#channels.on('client-closed', this.#onClosed);
    this.#channels.on('client-response', this.#onResponse);
    this.#store.on('change', this.#onChange);
    this.#housekeeping.start();
  }

  async close(): Promise<void> {
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
    if (tasks.length === 0 && topic.onNoSubsPub === 'drop') return message.msgId;
    if (!message.hasGd) {
      // Non-GD: a subscriber over `maxDepthNonGd` loses the message (counted; a connected one is cut off as a slow
      // consumer), the publisher is never refused because of it.
      for (const task of tasks) task.pushRam(message);
      return message.msgId;
    }
    await this.#publishGd(topic, message, tasks);
    return message.msgId;
  }

  async #publishGd(topic: TopicConfig, message: PubSubMessage, tasks: DeliveryTask[]): Promise<void> {
    const open = admitGd(topic, message, tasks, this.#depths);
    if (!open) return;
    try {
      await this.#repo.publish(
        [message],
        open.map((t) => t.sub.subKey),
      );
    } catch (err) {
      cancelGd(message, open, this.#depths);
      throw err;
    }
    for (const t of open) t.gdQueued();
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
    await this.#repo.createSubscription(sub);
    const task = this.#addTask(sub, topic.maxDepthNonGd);
    this.#subs.attach(task, target.pubClientId);
    await task.attach(target);
    return { subKey: sub.subKey, currentDepth: 0 };
  }

  /** Reattaches a subscription to the calling client; everything not yet acknowledged is delivered. */
  async resume(subKey: string, caller: Caller): Promise<{ subKey: string; currentDepth: number }> {
    const task = this.#requireTask(subKey);
    this.#checkOwner(task, caller);
    const target = this.#target(caller);
    this.#subs.attach(task, target.pubClientId);
    await task.attach(target);
    return { subKey, currentDepth: queueDepth(task) };
  }

  /** Deletes a subscription; only its owner (the attached client, or the same client_id) may. */
  async unsubscribe(subKey: string, caller: Caller | undefined): Promise<void> {
    const task = this.#requireTask(subKey);
    if (caller) this.#checkOwner(task, caller);
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

  #addTask(sub: Subscription, maxRam: number, state: Partial<SubscriptionState> & { gdDepth?: number } = {}): DeliveryTask {
    const task = new DeliveryTask(sub, {
      repository: this.#repo,
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

  // Zato's rule (the attached connection, or the same client_id), and on top of it: a subscription created through
  // a security definition is only ever its own clients', however they name themselves.
  #checkOwner(task: DeliveryTask, caller: Caller): void {
    const sub = task.sub;
    const securityName = sub.securityName ?? null;
    if (securityName !== null && this.#target(caller).securityName !== securityName) {
      throw new ForbiddenError('forbidden', `Subscription ${sub.subKey} belongs to another security definition`);
    }
    if (task.target?.pubClientId === caller.pubClientId) return;
    if (sub.extClientId !== null && sub.extClientId === caller.extClientId) return;
    throw new ForbiddenError('not_subscription_owner', `Subscription ${sub.subKey} belongs to another client`);
  }

  #target(caller: Caller) {
    return this.#channels.channel(caller.channelName).pushTarget(caller.pubClientId);
  }

  async #deleteSubscription(task: DeliveryTask): Promise<void> {
    task.close();
    this.#subs.remove(task);
    this.#housekeeping.forget(task.sub.subKey);
    const deleted = await this.#repo.dropQueue(task.sub.subKey);
    this.#depths.subtract(task.sub.topicName, deleted.messages, deleted.bytes);
  }

  async #clientClosed(e: ClientClosedEvent): Promise<void> {
    for (const task of this.#subs.ofClient(e.pubClientId)) {
      if (task.target?.pubClientId !== e.pubClientId) continue;
      if (task.sub.unsubOnWsxClose) {
        await this.#deleteSubscription(task);
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
