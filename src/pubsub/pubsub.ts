import type { Logger } from 'pino';
import type { ChannelManager, ClientClosedEvent, ClientResponseEvent } from '../channels/wsx/index.js';
import { ConflictError, ForbiddenError, NotFoundError, SwitchboardError, ValidationError } from '../errors/index.js';
import { newHexId } from '../protocol/index.js';
import { ConfigRepository, type ConfigChange, type Store } from '../store/index.js';
import type { TopicConfig } from './config.js';
import { DeliveryTask, SLOW_CONSUMER_CLOSE } from './delivery-task.js';
import { GdStore } from './gd-store.js';
import { buildMessage, type PubSubMessage, type PublishInput } from './message.js';
import { DEFAULT_DELIVERY_BATCH_SIZE, type SubscribeOptions, type Subscription } from './subscription.js';

/** Who is asking: the WebSocket client a pub/sub call came from. */
export interface Caller {
  readonly channelName: string;
  readonly pubClientId: string;
  readonly extClientId: string | undefined;
}

/** A topic's live numbers. */
export interface TopicDepth {
  /** GD messages stored for the topic (not yet received by every subscriber, or kept until expiry). */
  readonly gd: number;
  /** Non-GD messages waiting in subscribers' memory queues. */
  readonly nonGd: number;
  readonly subscriptions: number;
  readonly lastPublishedAt: string | undefined;
  readonly expired: number;
}

const EXPIRY_SWEEP_MS = 1000;

/**
 * Publish/subscribe over WebSockets (DESIGN.md §6): topics from the store, GD messages in SQLite,
 * non-GD ones in memory, one ordered delivery task per subscription.
 */
export class PubSub {
  readonly topics: ConfigRepository<TopicConfig>;
  readonly #store: Store;
  readonly #gd: GdStore;
  readonly #channels: ChannelManager;
  readonly #log: Logger;
  readonly #tasks = new Map<string, DeliveryTask>();
  readonly #byTopic = new Map<string, Set<string>>();
  readonly #gdDepth = new Map<string, number>();
  readonly #lastPublished = new Map<string, number>();
  readonly #expired = new Map<string, number>();
  readonly #topicCache = new Map<string, TopicConfig>();
  #seq = 0;
  #sweeper: NodeJS.Timeout | undefined;

  readonly #onClosed = (e: ClientClosedEvent) => void this.#clientClosed(e).catch((err: unknown) => this.#log.error({ err }, 'Unsubscribing a closed client failed'));
  readonly #onResponse = (e: ClientResponseEvent) => void this.#clientResponse(e).catch((err: unknown) => this.#log.error({ err }, 'Acknowledgement failed'));
  readonly #onChange = (change: ConfigChange) => {
    if (change.kind !== 'topic') return;
    this.#topicCache.delete(change.name);
    if (!change.current) void this.#dropTopic(change.name);
  };

  constructor(options: { store: Store; channels: ChannelManager; logger: Logger }) {
    this.#store = options.store;
    this.#gd = new GdStore(options.store);
    this.#channels = options.channels;
    this.#log = options.logger.child({ part: 'pubsub' });
    this.topics = new ConfigRepository<TopicConfig>(options.store, 'topic');
  }

  /** Loads subscriptions and depths, and follows client and topic events. */
  async start(): Promise<void> {
    this.#seq = await this.#gd.maxSeq();
    for (const [topic, n] of await this.#gd.depths()) this.#gdDepth.set(topic, n);
    const rows = await this.#store.db.selectFrom('pubsub_subscription').select('body').execute();
    for (const row of rows) this.#addTask(JSON.parse(row.body) as Subscription, await this.#maxRam((JSON.parse(row.body) as Subscription).topicName));
    this.#channels.on('client-closed', this.#onClosed);
    this.#channels.on('client-response', this.#onResponse);
    this.#store.on('change', this.#onChange);
    this.#sweeper = setInterval(() => void this.#sweep(), EXPIRY_SWEEP_MS);
    this.#sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#channels.off('client-closed', this.#onClosed);
    this.#channels.off('client-response', this.#onResponse);
    this.#store.off('change', this.#onChange);
    for (const task of this.#tasks.values()) task.detach();
    await this.#gd.drain();
  }

  /**
   * Publishes one message; resolves with its `msg_id` once it is safe: a GD message after its transaction
   * committed, a non-GD one once queued in memory.
   */
  async publish(topicName: string, input: PublishInput): Promise<string> {
    const topic = await this.#activeTopic(topicName);
    const message = buildMessage(topic, input, ++this.#seq, Date.now());
    const subKeys = [...(this.#byTopic.get(topicName) ?? [])];
    this.#lastPublished.set(topicName, message.pubTime);
    if (subKeys.length === 0 && topic.onNoSubsPub === 'drop') return message.msgId;
    if (message.hasGd) await this.#publishGd(topic, message, subKeys);
    else this.#publishRam(topic, message, subKeys);
    return message.msgId;
  }

  async #publishGd(topic: TopicConfig, message: PubSubMessage, subKeys: string[]): Promise<void> {
    const depth = this.#gdDepth.get(topic.name) ?? 0;
    if (depth >= topic.maxDepthGd) {
      throw new SwitchboardError('topic_full', 409, `Topic ${topic.name} holds ${depth} GD messages, its maximum (maxDepthGd)`);
    }
    // Counted before the commit, so concurrent publishers cannot overshoot the depth together.
    this.#gdDepth.set(topic.name, depth + 1);
    try {
      await this.#gd.publish([message], subKeys);
    } catch (err) {
      this.#gdDepth.set(topic.name, (this.#gdDepth.get(topic.name) ?? 1) - 1);
      throw err;
    }
    for (const subKey of subKeys) this.#tasks.get(subKey)?.gdQueued();
  }

  #publishRam(topic: TopicConfig, message: PubSubMessage, subKeys: string[]): void {
    const depth = subKeys.reduce((n, k) => Math.max(n, this.#tasks.get(k)?.ramDepth ?? 0), 0);
    if (subKeys.length && depth >= topic.maxDepthNonGd && subKeys.every((k) => !this.#tasks.get(k)?.target)) {
      throw new SwitchboardError('topic_full', 409, `Topic ${topic.name} holds ${depth} non-GD messages, its maximum (maxDepthNonGd)`);
    }
    for (const subKey of subKeys) this.#tasks.get(subKey)?.pushRam(message);
  }

  /** Subscribes the calling client; subscribing again to the same topic returns the existing subscription. */
  async subscribe(topicName: string, caller: Caller, options: SubscribeOptions = {}): Promise<{ subKey: string; currentDepth: number }> {
    const topic = await this.#activeTopic(topicName);
    const existing = [...this.#tasks.values()].find((t) => t.sub.topicName === topicName && t.target?.pubClientId === caller.pubClientId);
    if (existing) return { subKey: existing.sub.subKey, currentDepth: await this.#subDepth(existing) };
    const batch = options.deliveryBatchSize ?? DEFAULT_DELIVERY_BATCH_SIZE;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new ValidationError('delivery_batch_size', 'delivery_batch_size must be an integer from 1 to 10000');
    const ackMode = options.ackMode ?? 'write';
    if (ackMode !== 'write' && ackMode !== 'client') throw new ValidationError('ack_mode', 'ack_mode must be write or client');
    const sub: Subscription = {
      subKey: `zpsk.wsx.${newHexId(12)}`,
      topicName,
      channelName: caller.channelName,
      extClientId: caller.extClientId ?? null,
      deliveryBatchSize: batch,
      wrapOneMsgInList: options.wrapOneMsgInList ?? false,
      ackMode,
      unsubOnWsxClose: options.unsubOnWsxClose ?? true,
      createdAt: new Date().toISOString(),
    };
    await this.#store.db
      .insertInto('pubsub_subscription')
      .values({ sub_key: sub.subKey, topic_name: topicName, body: JSON.stringify(sub), created_at: sub.createdAt })
      .execute();
    const task = this.#addTask(sub, topic.maxDepthNonGd);
    await task.attach(this.#target(caller));
    return { subKey: sub.subKey, currentDepth: 0 };
  }

  /** Reattaches a subscription to the calling client; everything not yet acknowledged is delivered. */
  async resume(subKey: string, caller: Caller): Promise<{ subKey: string; currentDepth: number }> {
    const task = this.#requireTask(subKey);
    this.#checkOwner(task.sub, caller);
    await task.attach(this.#target(caller));
    return { subKey, currentDepth: await this.#subDepth(task) };
  }

  /** Deletes a subscription; only its owner (the attached client, or the same client_id) may. */
  async unsubscribe(subKey: string, caller: Caller | undefined): Promise<void> {
    const task = this.#requireTask(subKey);
    if (caller) this.#checkOwner(task.sub, caller);
    await this.#deleteSubscription(task);
  }

  /** A topic's depth and activity. */
  async depth(topicName: string): Promise<TopicDepth> {
    await this.topics.require(topicName);
    const subKeys = [...(this.#byTopic.get(topicName) ?? [])];
    const last = this.#lastPublished.get(topicName);
    return {
      gd: this.#gdDepth.get(topicName) ?? 0,
      nonGd: subKeys.reduce((n, k) => n + (this.#tasks.get(k)?.ramDepth ?? 0), 0),
      subscriptions: subKeys.length,
      lastPublishedAt: last === undefined ? undefined : new Date(last).toISOString(),
      expired: this.#expired.get(topicName) ?? 0,
    };
  }

  /** Every subscription with its subscriber and queue depth. */
  async subscriptions(): Promise<Array<Subscription & { pubClientId: string | null; queueDepth: number }>> {
    const out = [];
    for (const task of this.#tasks.values()) out.push({ ...task.sub, pubClientId: task.target?.pubClientId ?? null, queueDepth: await this.#subDepth(task) });
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** A page of a topic's stored GD messages. */
  async browse(topicName: string, afterSeq = 0, limit = 50): Promise<Array<Record<string, unknown>>> {
    await this.topics.require(topicName);
    const messages = await this.#gd.browse(topicName, afterSeq, Math.min(Math.max(limit, 1), 500));
    return messages.map((m) => ({
      msg_id: m.msgId,
      seq: m.seq,
      data: JSON.parse(m.dataJson) as unknown,
      priority: m.priority,
      pub_time_iso: new Date(m.pubTime).toISOString(),
      expiration_time_iso: new Date(m.expirationTime).toISOString(),
      mime_type: m.mimeType,
      size: m.size,
      correl_id: m.correlId,
      in_reply_to: m.inReplyTo,
      ext_client_id: m.extClientId,
    }));
  }

  /** Resolves once every GD write queued so far has committed. */
  drain(): Promise<void> {
    return this.#gd.drain();
  }

  async #activeTopic(name: string): Promise<TopicConfig> {
    let topic = this.#topicCache.get(name);
    if (!topic) {
      topic = await this.topics.get(name);
      if (!topic) throw new NotFoundError(`No topic named ${name}`, 'topic_not_found');
      this.#topicCache.set(name, topic);
    }
    if (!topic.isActive) throw new ConflictError(`Topic ${name} is inactive`, 'topic_inactive');
    return topic;
  }

  async #maxRam(topicName: string): Promise<number> {
    return (await this.topics.get(topicName))?.maxDepthNonGd ?? 1000;
  }

  #addTask(sub: Subscription, maxRam: number): DeliveryTask {
    const task = new DeliveryTask(sub, {
      gd: this.#gd,
      logger: this.#log,
      maxRam,
      events: {
        expired: (topic, n) => this.#expired.set(topic, (this.#expired.get(topic) ?? 0) + n),
        gdDeleted: (topic, n) => this.#gdDepth.set(topic, Math.max(0, (this.#gdDepth.get(topic) ?? 0) - n)),
        slowConsumer: (s) => this.#slowConsumer(s),
      },
    });
    this.#tasks.set(sub.subKey, task);
    let set = this.#byTopic.get(sub.topicName);
    if (!set) this.#byTopic.set(sub.topicName, (set = new Set()));
    set.add(sub.subKey);
    return task;
  }

  #requireTask(subKey: string): DeliveryTask {
    const task = this.#tasks.get(subKey);
    if (!task) throw new NotFoundError(`No subscription ${subKey}`, 'subscription_not_found');
    return task;
  }

  #checkOwner(sub: Subscription, caller: Caller): void {
    const task = this.#tasks.get(sub.subKey);
    if (task?.target?.pubClientId === caller.pubClientId) return;
    if (sub.extClientId !== null && sub.extClientId === caller.extClientId) return;
    throw new ForbiddenError(`Subscription ${sub.subKey} belongs to another client`, 'not_subscription_owner');
  }

  #target(caller: Caller) {
    return this.#channels.channel(caller.channelName).pushTarget(caller.pubClientId);
  }

  async #subDepth(task: DeliveryTask): Promise<number> {
    return (await this.#gd.queueDepth(task.sub.subKey)) + task.ramDepth;
  }

  async #deleteSubscription(task: DeliveryTask): Promise<void> {
    task.close();
    this.#tasks.delete(task.sub.subKey);
    this.#byTopic.get(task.sub.topicName)?.delete(task.sub.subKey);
    const deleted = await this.#gd.dropQueue(task.sub.subKey);
    if (deleted) this.#gdDepth.set(task.sub.topicName, Math.max(0, (this.#gdDepth.get(task.sub.topicName) ?? 0) - deleted));
    await this.#store.db.deleteFrom('pubsub_subscription').where('sub_key', '=', task.sub.subKey).execute();
  }

  async #clientClosed(e: ClientClosedEvent): Promise<void> {
    for (const task of [...this.#tasks.values()]) {
      if (task.target?.pubClientId !== e.pubClientId) continue;
      if (task.sub.unsubOnWsxClose) await this.#deleteSubscription(task);
      else task.detach();
    }
  }

  async #clientResponse(e: ClientResponseEvent): Promise<void> {
    for (const task of this.#tasks.values()) {
      if (task.target?.pubClientId !== e.pubClientId || task.sub.ackMode !== 'client') continue;
      if (await task.acknowledge(e.inReplyTo)) return;
    }
  }

  #slowConsumer(sub: Subscription): void {
    const task = this.#tasks.get(sub.subKey);
    const target = task?.target;
    this.#log.warn({ subKey: sub.subKey, topic: sub.topicName }, 'Non-GD subscriber too far behind; disconnecting it');
    target?.close(SLOW_CONSUMER_CLOSE, 'Slow consumer');
  }

  async #dropTopic(name: string): Promise<void> {
    for (const subKey of [...(this.#byTopic.get(name) ?? [])]) {
      const task = this.#tasks.get(subKey);
      if (task) await this.#deleteSubscription(task);
    }
    await this.#gd.deleteTopic(name);
    this.#gdDepth.delete(name);
  }

  async #sweep(): Promise<void> {
    try {
      const counts = await this.#gd.deleteExpired(Date.now());
      for (const [topic, n] of counts) {
        this.#gdDepth.set(topic, Math.max(0, (this.#gdDepth.get(topic) ?? 0) - n));
        this.#expired.set(topic, (this.#expired.get(topic) ?? 0) + n);
      }
    } catch (err) {
      this.#log.error({ err }, 'Expiry sweep failed');
    }
  }
}
