import { Type, type Static } from '@sinclair/typebox';

/** A topic as stored and as the admin API takes it (DESIGN.md §6). */
export const TopicConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^/\\S*$', description: 'e.g. /orders/new' }),
    isActive: Type.Optional(Type.Boolean()),
    hasGd: Type.Optional(Type.Boolean()),
    maxDepthGd: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    maxDepthNonGd: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
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
  limitMessageExpiry: number;
  onNoSubsPub: 'accept' | 'drop';
}

/** Zato 3.2's defaults. */
export const topicDefaults: Omit<TopicConfig, 'name'> = {
  isActive: true,
  hasGd: true,
  maxDepthGd: 10_000,
  maxDepthNonGd: 1_000,
  limitMessageExpiry: 86_400,
  onNoSubsPub: 'accept',
};

export function normalizeTopic(input: TopicInput): TopicConfig {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return { name: input.name, ...topicDefaults, ...given } as TopicConfig;
}
