import { SwitchboardError } from '../errors/index.js';
import type { TopicConfig } from './config.js';
import type { DeliveryTask } from './delivery-task.js';
import type { TopicDepths } from './depths.js';
import type { PubSubMessage } from './message.js';
import type { PubSubRepository } from '../store/index.js';

/**
 * Stores a GD publication for the subscriptions `admitGd` lets it go to, and in a cluster (`cluster`) for the
 * other servers' subscriptions too (the store decides those: this server decides only its own). When the topic has
 * subscriptions elsewhere, it is stored even if no local one takes it. Resolves once committed; a failed commit
 * takes back what admission counted.
 */
export async function publishGd(
  parts: {
    readonly repository: PubSubRepository;
    readonly depths: TopicDepths;
    /** In a cluster: whether the topic has subscriptions elsewhere, and whether the store should look for them. */
    readonly cluster: { readonly elsewhere: boolean; readonly others: boolean } | undefined;
  },
  topic: TopicConfig,
  message: PubSubMessage,
  tasks: readonly DeliveryTask[],
): Promise<void> {
  const open = admitGd(topic, message, tasks, parts.depths, parts.cluster?.elsewhere ?? false);
  if (!open) return;
  const others = parts.cluster?.others ? { exclude: tasks.map((t) => t.sub.subKey) } : undefined;
  try {
    await parts.repository.publish(
      [message],
      open.map((t) => t.sub.subKey),
      others,
    );
  } catch (err) {
    cancelGd(message, open, parts.depths);
    throw err;
  }
  parts.depths.committed(topic.name, message.size);
  for (const t of open) {
    t.overflow.committed();
    t.gdQueued();
  }
}

/**
 * Which subscriptions a GD publication goes to: those below their own limit (`subMaxDepthGd`); the others are
 * suspended and the message is dropped for them (and counted), so one subscriber that stops reading never refuses
 * publishers. When every subscription refuses it, undefined: nothing is stored. The topic's own limits
 * (`maxDepthGd`, `maxBytesGd`) then bound what the topic holds in all (`topic_full`). The message is counted in
 * the topic's depth and the subscriptions' before its commit, so concurrent publishers cannot overshoot together;
 * `cancelGd` takes that back when the commit fails.
 */
export function admitGd(
  topic: TopicConfig,
  message: PubSubMessage,
  tasks: readonly DeliveryTask[],
  depths: TopicDepths,
  others = false,
): DeliveryTask[] | undefined {
  const open: DeliveryTask[] = [];
  const refused: DeliveryTask[] = [];
  for (const t of tasks) (t.overflow.canTake(subLimit(t, topic)) ? open : refused).push(t);
  // In a cluster, other servers' subscriptions may still take it (`others`): it is stored unless the topic is full.
  if (tasks.length && !open.length && !others) {
    refuse(refused, topic);
    return undefined;
  }
  const depth = depths.gd(topic.name);
  if (depth >= topic.maxDepthGd) {
    throw new SwitchboardError('topic_full', `Topic ${topic.name} holds ${depth} GD messages, its maximum (maxDepthGd)`);
  }
  const bytes = depths.gdBytes(topic.name);
  if (bytes + message.size > topic.maxBytesGd) {
    throw new SwitchboardError(
      'topic_full',
      `Topic ${topic.name} holds ${bytes} bytes of GD messages; ${message.size} more would pass its maximum of ${topic.maxBytesGd} (maxBytesGd)`,
    );
  }
  refuse(refused, topic);
  depths.add(topic.name, message.size);
  for (const t of open) t.overflow.reserve();
  return open;
}

/** The commit of an admitted message failed: what `admitGd` counted is taken back. */
function cancelGd(message: PubSubMessage, open: readonly DeliveryTask[], depths: TopicDepths): void {
  for (const t of open) t.overflow.release();
  depths.cancelled(message.topicName, message.size);
}

/**
 * A subscription's GD queue limit. A subscriber may lower its own, never raise it above the topic's: the topic's
 * limit is what keeps one subscription from filling the topic.
 */
export function subLimit(task: DeliveryTask, topic: TopicConfig): number {
  const own = task.sub.subMaxDepthGd;
  return own ? Math.min(own, topic.subMaxDepthGd) : topic.subMaxDepthGd;
}

function refuse(tasks: readonly DeliveryTask[], topic: TopicConfig): void {
  for (const t of tasks) t.overflow.refuse(subLimit(t, topic));
}
