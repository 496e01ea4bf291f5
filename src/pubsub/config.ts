import { Type, type Static } from '@sinclair/typebox';
import { fillDefaults, withDefault, type Filled } from '../config-schema/index.js';

/**
 * A topic as stored and as the admin API takes it (DESIGN.md §6). Zato 3.2's defaults, and Switchboard's own limits:
 * a subscription holds at most half the topic's GD depth (so one slow subscriber cannot fill the topic), a topic at
 * most 64 MiB of GD data, a publication at most 1,000,000 bytes of data (its delivery frame then fits a channel's
 * default `maxMessageSize` of 1 MiB), and a subscription without a connection is deleted after 24 h (as long as a
 * message lives by default: by then all it held has expired).
 */
export const TopicConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^/\\S*$', description: 'e.g. /orders/new' }),
    isActive: withDefault(Type.Boolean({ description: 'accepts publications (true) or not' }), true),
    hasGd: withDefault(Type.Boolean({ description: 'guaranteed delivery by default' }), true),
    maxDepthGd: withDefault(
      Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'GD messages the topic holds at most' }),
      10_000,
    ),
    maxDepthNonGd: withDefault(
      Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'non-GD messages per subscriber at most' }),
      1_000,
    ),
    // No schema default: it follows maxDepthGd (see normalizeTopic).
    subMaxDepthGd: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000_000,
        description: 'GD messages one subscription may have queued, then it is suspended; default: half of maxDepthGd',
      }),
    ),
    maxBytesGd: withDefault(
      Type.Integer({
        minimum: 1024,
        maximum: 1024 ** 4,
        description: 'data bytes of stored GD messages; one more publication over it is 409 topic_full',
      }),
      64 * 1024 * 1024,
    ),
    maxMessageSize: withDefault(
      Type.Integer({
        minimum: 1,
        maximum: 256 * 1024 * 1024,
        description: 'data bytes (the JSON of data) of one publication; more is 413 message_too_large',
      }),
      1_000_000,
    ),
    detachedTtl: withDefault(
      Type.Integer({
        minimum: 1,
        maximum: 31_536_000,
        description: 'seconds a subscription may stay without a connection before it is deleted',
      }),
      86_400,
    ),
    limitMessageExpiry: withDefault(
      Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, description: 'longest message expiry, seconds' }),
      86_400,
    ),
    onNoSubsPub: withDefault(
      Type.Union([Type.Literal('accept'), Type.Literal('drop')], {
        description: 'a publication without subscribers: accept or drop',
      }),
      'accept',
    ),
  },
  { additionalProperties: false },
);
/** A topic as the admin API takes it: the optional fields may be left out. */
export type TopicInput = Static<typeof TopicConfigSchema>;

/** A topic with every default filled in, `subMaxDepthGd` too. `limitMessageExpiry` is in seconds. */
export type TopicConfig = Required<Filled<typeof TopicConfigSchema>>;

/** A topic with its defaults filled in; `subMaxDepthGd` defaults to half of `maxDepthGd` (at least 1). */
export function normalizeTopic(input: TopicInput): TopicConfig {
  const topic = fillDefaults(TopicConfigSchema, input);
  return { ...topic, subMaxDepthGd: topic.subMaxDepthGd ?? Math.max(1, Math.floor(topic.maxDepthGd / 2)) };
}

/** A stored topic (perhaps written before a limit existed) with every field, the missing ones at their defaults. */
export function withTopicDefaults(topic: Partial<TopicConfig> & { name: string }): TopicConfig {
  return normalizeTopic(topic as TopicInput);
}
