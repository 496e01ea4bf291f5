import { SwitchboardError } from '../errors/index.js';
import type { TopicConfig } from './config.js';
import type { DeliveryTask } from './delivery-task.js';
import type { TopicDepths } from './depths.js';
import type { PubSubMessage } from './message.js';

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
): DeliveryTask[] | undefined {
  const open: DeliveryTask[] = [];
  const refused: DeliveryTask[] = [];
  for (const t of tasks) (t.overflow.canTake(subLimit(t, topic)) ? open : refused).push(t);
  if (tasks.length && !open.length) {
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
export function cancelGd(message: PubSubMessage, open: readonly DeliveryTask[], depths: TopicDepths): void {
  for (const t of open) t.overflow.release();
  depths.subtract(message.topicName, 1, message.size);
}

// A subscriber may lower its own queue limit, never raise it above the topic's: the topic's limit is what keeps
// one subscription from filling the topic.
function subLimit(task: DeliveryTask, topic: TopicConfig): number {
  const own = task.sub.subMaxDepthGd;
  return own ? Math.min(own, topic.subMaxDepthGd) : topic.subMaxDepthGd;
}

function refuse(tasks: readonly DeliveryTask[], topic: TopicConfig): void {
  for (const t of tasks) t.overflow.refuse(subLimit(t, topic));
}
