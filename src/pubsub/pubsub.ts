import type { Logger } from 'pino';
import type { ChannelManager, ClientClosedEvent, ClientResponseEvent } from '../channels/wsx/index.js';
import { ConflictError, ForbiddenError, NotFoundError, PayloadTooLargeError, SwitchboardError, ValidationError } from '../errors/index.js';
import { newHexId } from '../protocol/index.js';
import { ConfigRepository, type ConfigChange, type Store } from '../store/index.js';
import { withTopicDefaults, type TopicConfig } from './config.js';
import { DeliveryTask, SLOW_CONSUMER_CLOSE } from './delivery-task.js';
import { GdStore, type StoredTotals } from './gd-store.js';
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
  /** Data bytes of the stored GD messages (see `maxBytesGd`). */
  readonly gdBytes: number;
  readonly subscriptions: number;
  /** Subscriptions suspended at their queue limit (`subMaxDepthGd`). */
  readonly suspended: number;
  /** Messages dropped for subscribers since the server started (overflow, or too large for a channel). */
  readonly dropped: number;
  readonly lastPublishedAt: string | undefined;
  readonly expired: number;
}

/** A subscription as the admin API lists it: its settings, subscriber, queue and overflow state. */
export interface SubscriptionView extends Subscription {
  readonly pubClientId: string | null;
  readonly queueDepth: number;
  /** True while at its queue limit: new messages for it are dropped. */
  readonly suspended: boolean;
  /** Messages it did not receive since it was created (overflow, or too large for its channel). */
  readonly dropped: number;
  /** Of `dropped`, those too large for its channel's `maxMessageSize` (since the server started). */
  readonly droppedTooLarge: number;
  /** Since when it has had no connection (ISO time), or null. */
  readonly detachedAt: string | null;
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
  readonly #gdBytes = new Map<string, number>();
  readonly #dropped = new Map<string, number>();
  // Subscriptions whose overflow state changed since the last housekeeping round (persisted then).
  readonly #dirty = new Set<string>();
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
    for (const [topic, t] of await this.#gd.depths()) {
      this.#gdDepth.set(topic, t.count);
      this.#gdBytes.set(topic, t.bytes);
    }
    const queued = await this.#gd.queueDepths();
    const rows = await this.#store.db.selectFrom('pubsub_subscription').select(['body', 'suspended', 'dropped', 'detached_at']).execute();
    const now = Date.now();
    for (const row of rows) {
      const sub = JSON.parse(row.body) as Subscription;
      // Nothing is attached after a start; a subscription detached before keeps its time, the others start now.
      const detachedAt = row.detached_at === null ? now : Number(row.detached_at);
      this.#addTask(sub, await this.#maxRam(sub.topicName), { gdDepth: queued.get(sub.subKey) ?? 0, suspended: row.suspended === 1, dropped: Number(row.dropped), detachedAt });
      if (row.detached_at === null) this.#dirty.add(sub.subKey);
    }
    this.#channels.on('client-closed', this.#onClosed);
    this.#channels.on('client-response', this.#onResponse);
    this.#store.on('change', this.#onChange);
    this.#sweeper = setInterval(() => void this.#sweep(), EXPIRY_SWEEP_MS);
    this.#sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#saveStates().catch((err: unknown) => this.#log.error({ err }, 'Saving subscription states failed'));
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
    if (message.size > topic.maxMessageSize) {
      throw new PayloadTooLargeError('message_too_large', `The message's data is ${message.size} bytes; topic ${topic.name} takes at most ${topic.maxMessageSize} (maxMessageSize)`);
    }
    const subKeys = [...(this.#byTopic.get(topicName) ?? [])];
    this.#lastPublished.set(topicName, message.pubTime);
    if (subKeys.length === 0 && topic.onNoSubsPub === 'drop') return message.msgId;
    if (message.hasGd) await this.#publishGd(topic, message, subKeys);
    else this.#publishRam(message, subKeys);
    return message.msgId;
  }

  /**
   * A GD publication goes to the subscriptions below their own limit (`subMaxDepthGd`); the others are suspended
   * and the message is dropped for them (and counted), so one subscriber that stops reading never refuses
   * publishers. When every subscription refuses it, nothing is stored. The topic's own limits (`maxDepthGd`,
   * `maxBytesGd`) then bound what the topic holds in all.
   */
  async #publishGd(topic: TopicConfig, message: PubSubMessage, subKeys: string[]): Promise<void> {
    const open: string[] = [];
    const refused: string[] = [];
    for (const k of subKeys) (this.#tasks.get(k)?.canTakeGd(this.#subLimit(k, topic)) ? open : refused).push(k);
    if (subKeys.length && !open.length) {
      for (const k of refused) this.#tasks.get(k)?.dropGd(this.#subLimit(k, topic));
      return;
    }
    const depth = this.#gdDepth.get(topic.name) ?? 0;
    if (depth >= topic.maxDepthGd) {
      throw new SwitchboardError('topic_full', `Topic ${topic.name} holds ${depth} GD messages, its maximum (maxDepthGd)`);
    }
    const bytes = this.#gdBytes.get(topic.name) ?? 0;
    if (bytes + message.size > topic.maxBytesGd) {
      throw new SwitchboardError('topic_full', `Topic ${topic.name} holds ${bytes} bytes of GD messages; ${message.size} more would pass its maximum of ${topic.maxBytesGd} (maxBytesGd)`);
    }
    for (const k of refused) this.#tasks.get(k)?.dropGd(this.#subLimit(k, topic));
    // Counted before the commit, so concurrent publishers cannot overshoot the limits together.
    this.#gdDepth.set(topic.name, depth + 1);
    this.#gdBytes.set(topic.name, bytes + message.size);
    for (const subKey of open) this.#tasks.get(subKey)?.reserveGd();
    try {
      await this.#gd.publish([message], open);
    } catch (err) {
      for (const subKey of open) this.#tasks.get(subKey)?.releaseGd();
      this.#gdDepth.set(topic.name, (this.#gdDepth.get(topic.name) ?? 1) - 1);
      this.#gdBytes.set(topic.name, Math.max(0, (this.#gdBytes.get(topic.name) ?? 0) - message.size));
      throw err;
    }
    for (const subKey of open) this.#tasks.get(subKey)?.gdQueued();
  }

  // A subscriber may lower its own queue limit, never raise it above the topic's: the topic's limit is what keeps
  // one subscription from filling the topic.
  #subLimit(subKey: string, topic: TopicConfig): number {
    const own = this.#tasks.get(subKey)?.sub.subMaxDepthGd;
    return own ? Math.min(own, topic.subMaxDepthGd) : topic.subMaxDepthGd;
  }

  // Non-GD: a subscriber over `maxDepthNonGd` loses the message (counted; a connected one is cut off as a slow
  // consumer), the publisher is never refused because of it.
  #publishRam(message: PubSubMessage, subKeys: string[]): void {
    for (const subKey of subKeys) this.#tasks.get(subKey)?.pushRam(message);
  }

  /** Subscribes the calling client; subscribing again to the same topic returns the existing subscription. */
  async subscribe(topicName: string, caller: Caller, options: SubscribeOptions = {}): Promise<{ subKey: string; currentDepth: number }> {
    const topic = await this.#activeTopic(topicName);
    const existing = [...this.#tasks.values()].find((t) => t.sub.topicName === topicName && t.target?.pubClientId === caller.pubClientId);
    if (existing) return { subKey: existing.sub.subKey, currentDepth: await this.#subDepth(existing) };
    const batch = options.deliveryBatchSize ?? DEFAULT_DELIVERY_BATCH_SIZE;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new ValidationError('invalid_input', 'delivery_batch_size must be an integer from 1 to 10000', { field: 'delivery_batch_size' });
    const ackMode = options.ackMode ?? 'write';
    if (ackMode !== 'write' && ackMode !== 'client') throw new ValidationError('invalid_input', 'ack_mode must be write or client', { field: 'ack_mode' });
    const ownLimit = options.subMaxDepthGd;
    if (ownLimit !== undefined && (!Number.isInteger(ownLimit) || ownLimit < 1 || ownLimit > 100_000_000)) {
      throw new ValidationError('invalid_input', 'sub_max_depth_gd must be an integer from 1 to 100000000', { field: 'sub_max_depth_gd' });
    }
    const target = this.#target(caller);
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
      securityName: target.securityName,
      subMaxDepthGd: ownLimit ?? null,
    };
    await this.#store.db
      .insertInto('pubsub_subscription')
      .values({ sub_key: sub.subKey, topic_name: topicName, body: JSON.stringify(sub), created_at: sub.createdAt })
      .execute();
    const task = this.#addTask(sub, topic.maxDepthNonGd);
    await task.attach(target);
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
      gdBytes: this.#gdBytes.get(topicName) ?? 0,
      nonGd: subKeys.reduce((n, k) => n + (this.#tasks.get(k)?.ramDepth ?? 0), 0),
      subscriptions: subKeys.length,
      suspended: subKeys.filter((k) => this.#tasks.get(k)?.suspended).length,
      dropped: this.#dropped.get(topicName) ?? 0,
      lastPublishedAt: last === undefined ? undefined : new Date(last).toISOString(),
      expired: this.#expired.get(topicName) ?? 0,
    };
  }

  /** Every subscription with its subscriber, queue depth and overflow state. */
  subscriptions(): SubscriptionView[] {
    const out: SubscriptionView[] = [];
    for (const task of this.#tasks.values()) {
      out.push({
        ...task.sub,
        securityName: task.sub.securityName ?? null,
        pubClientId: task.target?.pubClientId ?? null,
        queueDepth: this.#subDepth(task),
        suspended: task.suspended,
        dropped: task.drops.dropped,
        droppedTooLarge: task.drops.tooLarge,
        detachedAt: task.detachedAt === null ? null : new Date(task.detachedAt).toISOString(),
      });
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Messages dropped for subscribers since start, per topic (for `/metrics`). */
  droppedByTopic(): ReadonlyMap<string, number> {
    return this.#dropped;
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

  // A topic with its defaults filled in, cached until it changes.
  async #topicConfig(name: string): Promise<TopicConfig | undefined> {
    let topic = this.#topicCache.get(name);
    if (topic) return topic;
    const stored = await this.topics.get(name);
    if (!stored) return undefined;
    topic = withTopicDefaults(stored);
    this.#topicCache.set(name, topic);
    return topic;
  }

  async #activeTopic(name: string): Promise<TopicConfig> {
    const topic = await this.#topicConfig(name);
    if (!topic) throw new NotFoundError('topic_not_found', `No topic named ${name}`);
    if (!topic.isActive) throw new ConflictError('topic_inactive', `Topic ${name} is inactive`);
    return topic;
  }

  async #maxRam(topicName: string): Promise<number> {
    return (await this.topics.get(topicName))?.maxDepthNonGd ?? 1000;
  }

  #addTask(sub: Subscription, maxRam: number, state: { gdDepth?: number; suspended?: boolean; dropped?: number; detachedAt?: number | null } = {}): DeliveryTask {
    const task = new DeliveryTask(sub, {
      gd: this.#gd,
      logger: this.#log,
      maxRam,
      ...state,
      events: {
        expired: (topic, n) => this.#expired.set(topic, (this.#expired.get(topic) ?? 0) + n),
        gdDeleted: (topic, n, bytes) => this.#forget(topic, { count: n, bytes }),
        slowConsumer: (s) => this.#slowConsumer(s),
        dropped: (s, n) => this.#dropped.set(s.topicName, (this.#dropped.get(s.topicName) ?? 0) + n),
        stateChanged: (s) => this.#dirty.add(s.subKey),
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
    if (!task) throw new NotFoundError('subscription_not_found', `No subscription ${subKey}`);
    return task;
  }

  // Zato's rule (the attached connection, or the same client_id), and on top of it: a subscription created through
  // a security definition is only ever its own clients', however they name themselves.
  #checkOwner(sub: Subscription, caller: Caller): void {
    const task = this.#tasks.get(sub.subKey);
    const securityName = sub.securityName ?? null;
    if (securityName !== null && this.#target(caller).securityName !== securityName) {
      throw new ForbiddenError('forbidden', `Subscription ${sub.subKey} belongs to another security definition`);
    }
    if (task?.target?.pubClientId === caller.pubClientId) return;
    if (sub.extClientId !== null && sub.extClientId === caller.extClientId) return;
    throw new ForbiddenError('not_subscription_owner', `Subscription ${sub.subKey} belongs to another client`);
  }

  #target(caller: Caller) {
    return this.#channels.channel(caller.channelName).pushTarget(caller.pubClientId);
  }

  // Counted in memory (no query per call: the admin API and /metrics read it for every subscription).
  #subDepth(task: DeliveryTask): number {
    return task.gdDepth + task.ramDepth;
  }

  // Stored GD messages of a topic were deleted.
  #forget(topic: string, deleted: StoredTotals): void {
    if (deleted.count) this.#gdDepth.set(topic, Math.max(0, (this.#gdDepth.get(topic) ?? 0) - deleted.count));
    if (deleted.bytes) this.#gdBytes.set(topic, Math.max(0, (this.#gdBytes.get(topic) ?? 0) - deleted.bytes));
  }

  async #deleteSubscription(task: DeliveryTask): Promise<void> {
    task.close();
    this.#tasks.delete(task.sub.subKey);
    this.#byTopic.get(task.sub.topicName)?.delete(task.sub.subKey);
    this.#dirty.delete(task.sub.subKey);
    const deleted = await this.#gd.dropQueue(task.sub.subKey);
    this.#forget(task.sub.topicName, { count: deleted.messages, bytes: deleted.bytes });
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
    this.#gdBytes.delete(name);
  }

  // Housekeeping, once a second: expired messages, subscriptions detached for longer than their topic's
  // `detachedTtl`, and the overflow state of the subscriptions that changed.
  async #sweep(): Promise<void> {
    try {
      const now = Date.now();
      const { topics, rows } = await this.#gd.deleteExpired(now);
      for (const [topic, t] of topics) {
        this.#forget(topic, t);
        this.#expired.set(topic, (this.#expired.get(topic) ?? 0) + t.count);
      }
      for (const [subKey, n] of rows) this.#tasks.get(subKey)?.expiredRows(n);
      await this.#removeDetached(now);
      await this.#saveStates();
    } catch (err) {
      this.#log.error({ err }, 'Pub/sub housekeeping failed');
    }
  }

  async #removeDetached(now: number): Promise<void> {
    for (const task of [...this.#tasks.values()]) {
      const since = task.detachedAt;
      if (since === null || task.target) continue;
      const ttl = (await this.#topicConfig(task.sub.topicName))?.detachedTtl ?? 0;
      if (now - since < ttl * 1000) continue;
      this.#log.info({ subKey: task.sub.subKey, topic: task.sub.topicName, detachedAt: new Date(since).toISOString(), queued: task.gdDepth }, 'Subscription detached for longer than detachedTtl; deleted');
      await this.#deleteSubscription(task);
    }
  }

  async #saveStates(): Promise<void> {
    const keys = [...this.#dirty];
    this.#dirty.clear();
    for (const subKey of keys) {
      const task = this.#tasks.get(subKey);
      if (task) await this.#gd.saveState(subKey, { suspended: task.suspended, dropped: task.drops.dropped, detachedAt: task.detachedAt });
    }
  }
}
