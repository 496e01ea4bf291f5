// A pub/sub topic as an AsyncAPI channel: publishing to it (send) and its deliveries (receive), on the zato
// channels whose pub/sub permissions allow them.
import { MSG_TYPE, pubsubDeliverySchema, type JsonSchema } from '../../protocol/index.js';
import { invokeFrame, message, okFrame, shared } from './messages.js';
import { messageRef, type DocumentParts, type Ref } from './parts.js';

// Zato's names of the pub/sub services (DESIGN.md §4): what clients call, so part of the interface described.
const PUBLISH = 'zato.pubsub.pubapi.publish-message';
const SUBSCRIBE = 'zato.pubsub.pubapi.subscribe-wsx';

/** What the document needs of a topic: its name and state, and which channels may publish and subscribe. */
export interface TopicEntry {
  readonly name: string;
  readonly isActive: boolean;
  readonly hasGd: boolean;
  /** Per running zato channel (`GET /api/pubsub/topics/{name}/access`). */
  readonly access: ReadonlyArray<{ readonly channel: string; readonly publish: boolean; readonly subscribe: boolean }>;
}

/** The publish service's request with `topic_name` pinned to this topic, through the gateway. */
function publishRequest(parts: DocumentParts, topic: string): JsonSchema {
  const { input } = parts.servicePayloads(PUBLISH);
  const request = { allOf: [input, { type: 'object', properties: { topic_name: { const: topic } }, required: ['topic_name'] }] };
  return {
    type: 'object',
    properties: { service: { const: PUBLISH }, request },
    required: ['service', 'request'],
    description: `through the gateway; a channel that mounts ${PUBLISH} itself takes the request alone as data`,
  };
}

function describe(topic: TopicEntry, publishers: readonly string[], subscribers: readonly string[]): string {
  const list = (names: readonly string[]) => (names.length ? names.join(', ') : 'no running zato channel');
  const state = topic.isActive ? '' : ' Inactive: publications are refused (topic_inactive).';
  return (
    `Pub/sub topic ${topic.name} (${topic.hasGd ? 'guaranteed delivery' : 'not GD'} by default). ` +
    `Publish on: ${list(publishers)}. Subscribe on: ${list(subscribers)}.${state}`
  );
}

/** Adds a topic's channel and its publish and subscribe operations; `servers` maps channel names to their server. */
export function addTopic(parts: DocumentParts, topic: TopicEntry, servers: ReadonlyMap<string, Ref>): void {
  const publishers = topic.access.filter((a) => a.publish).map((a) => a.channel);
  const subscribers = topic.access.filter((a) => a.subscribe).map((a) => a.channel);
  const reachable = [...new Set([...publishers, ...subscribers])].flatMap((name) => servers.get(name) ?? []);
  const { output } = parts.servicePayloads(PUBLISH);
  const key = parts.channelKey(`topic.${topic.name.replace(/^\//, '')}`);
  const channel = parts.addChannel(key, {
    address: topic.name,
    title: topic.name,
    description: describe(topic, publishers, subscribers),
    servers: reachable,
    messages: {
      publish: message('invoke-service', `Publish to ${topic.name}`, invokeFrame(parts, publishRequest(parts, topic.name))),
      published: message(MSG_TYPE.OK_RESPONSE, 'The publication was accepted: its msg_id', okFrame(parts, output)),
      errorResponse: shared(parts, 'wsx.errorResponse'),
      delivery: message(MSG_TYPE.PUBSUB_REQUEST, `Messages of ${topic.name}`, pubsubDeliverySchema(topic.name)),
      acknowledgement: shared(parts, 'wsx.clientResponse'),
    },
    'x-switchboard-publishers': publishers,
    'x-switchboard-subscribers': subscribers,
  });
  const ref = (m: string) => messageRef(channel, m);
  parts.addOperation(`${key}.publish`, {
    action: 'send',
    channel,
    summary: `Publish a message to ${topic.name}`,
    messages: [ref('publish')],
    reply: { channel, messages: [ref('published'), ref('errorResponse')] },
  });
  parts.addOperation(`${key}.subscribe`, {
    action: 'receive',
    channel,
    summary: `Receive the messages of ${topic.name}`,
    description:
      `Subscribe first by invoking ${SUBSCRIBE} with {"topic_name": "${topic.name}"} (it returns the sub_key); ` +
      'resume after a reconnect with zato.pubsub.resume-wsx-subscription. Under ack_mode client, acknowledge each ' +
      'delivery with a client-response whose in_reply_to is its meta.id.',
    messages: [ref('delivery')],
    reply: { channel, messages: [ref('acknowledgement')] },
  });
}
