import type { DeliveryTask } from './delivery-task.js';
import type { TopicDepths } from './depths.js';
import type { Subscription } from './subscription.js';

/** Who is asking: the WebSocket client a pub/sub call came from. */
export interface Caller {
  readonly channelName: string;
  readonly pubClientId: string;
  readonly extClientId: string | undefined;
  /** Throws when the caller may not hold a subscription to the topic (its pub/sub permissions; checked on resume). */
  readonly mayHold?: (topicName: string) => void;
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

/** Messages queued for a subscription, GD and non-GD, as counted in memory (no query: listed for every subscription). */
export function queueDepth(task: DeliveryTask): number {
  return task.gdDepth + task.ramDepth;
}

/** A live subscription as the admin API shows it. */
export function subscriptionView(task: DeliveryTask): SubscriptionView {
  return {
    ...task.sub,
    securityName: task.sub.securityName ?? null,
    pubClientId: task.target?.pubClientId ?? null,
    queueDepth: queueDepth(task),
    suspended: task.suspended,
    dropped: task.drops.dropped,
    droppedTooLarge: task.drops.tooLarge,
    detachedAt: task.detachedAt === null ? null : new Date(task.detachedAt).toISOString(),
  };
}

/** A topic's live numbers, from its counters and its subscriptions' queues. */
export function topicDepth(topicName: string, tasks: readonly DeliveryTask[], depths: TopicDepths): TopicDepth {
  const last = depths.lastPublished(topicName);
  return {
    gd: depths.gd(topicName),
    gdBytes: depths.gdBytes(topicName),
    nonGd: tasks.reduce((n, t) => n + t.ramDepth, 0),
    subscriptions: tasks.length,
    suspended: tasks.filter((t) => t.suspended).length,
    dropped: depths.dropped.get(topicName) ?? 0,
    lastPublishedAt: last === undefined ? undefined : new Date(last).toISOString(),
    expired: depths.expired(topicName),
  };
}
