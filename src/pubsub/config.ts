import { Type, type Static } from '@sinclair/typebox';

/** A topic as stored and as the admin API takes it (DESIGN.md §6). */
export const TopicConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^/\\S*$', description: 'e.g. /orders/new' }),
    isActive: Type.Optional(Type.Boolean()),
    hasGd: Type.Optional(Type.Boolean()),
    maxDepthGd: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    maxDepthNonGd: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    subMaxDepthGd: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    maxBytesGd: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 ** 4 })),
    maxMessageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 * 1024 * 1024 })),
    detachedTtl: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    limitMessageExpiry: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000 })),
    onNoSubsPub: Type.Optional(Type.Union([Type.Literal('accept'), Type.Literal('drop')])),
  },
  { additionalProperties: false },
);
export type TopicInput = Static<typeof TopicConfigSchema>;

/** A topic with every default filled in. `limitMessageExpiry` is in seconds. */
export interface TopicConfig {
  name: string;
  isActive: boolean;
  hasGd: boolean;
  maxDepthGd: number;
  maxDepthNonGd: number;
  /** GD messages one subscription may have queued; at it the subscription is suspended (its new messages dropped). */
  subMaxDepthGd: number;
  /** Data bytes of the topic's stored GD messages; one more publication over it is a 409 `topic_full`. */
  maxBytesGd: number;
  /** Data bytes (the JSON of `data`) of one publication; more is a 413 `message_too_large`. */
  maxMessageSize: number;
  /** Seconds a subscription may stay without a connection before it is deleted with its queue. */
  detachedTtl: number;
  limitMessageExpiry: number;
  onNoSubsPub: 'accept' | 'drop';
}

/**
 * Zato 3.2's defaults, and Switchboard's own limits: a subscription holds at most half the topic's GD depth (so one
 * slow subscriber cannot fill the topic), a topic at most 64 MiB of GD data, a publication at most 1,000,000 bytes
 * of data (its delivery frame then fits a channel's default `maxMessageSize` of 1 MiB), and a subscription without a
 * connection is deleted after 24 h (as long as a message lives by default: by then all it held has expired).
 */
export const topicDefaults: Omit<TopicConfig, 'name' | 'subMaxDepthGd'> = {
  isActive: true,
  hasGd: true,
  maxDepthGd: 10_000,
  maxDepthNonGd: 1_000,
  maxBytesGd: 64 * 1024 * 1024,
  maxMessageSize: 1_000_000,
  detachedTtl: 86_400,
  limitMessageExpiry: 86_400,
  onNoSubsPub: 'accept',
};

/** A topic with its defaults filled in; `subMaxDepthGd` defaults to half of `maxDepthGd` (at least 1). */
export function normalizeTopic(input: TopicInput): TopicConfig {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<TopicConfig>;
  const base = { name: input.name, ...topicDefaults, ...given };
  return { subMaxDepthGd: Math.max(1, Math.floor(base.maxDepthGd / 2)), ...base } as TopicConfig;
}

/** A stored topic (perhaps written before a limit existed) with every field, the missing ones at their defaults. */
export function withTopicDefaults(topic: Partial<TopicConfig> & { name: string }): TopicConfig {
  return normalizeTopic(topic as TopicInput);
}
