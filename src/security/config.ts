// The security definition's schemas, apart from its repository, so that the CLI can build its flags from them
// without loading the store (see architecture.json: config.ts is a part's second, schema-only entry).
import { Type, type Static } from '@sinclair/typebox';

/** Kinds of security definition. `basic_auth`: username and password; `apikey`: a secret key alone. */
export const SECURITY_TYPES = ['basic_auth', 'apikey'] as const;
export type SecurityType = (typeof SECURITY_TYPES)[number];

/** Most patterns one channel or security definition may hold. */
const MAX_TOPIC_PATTERNS = 100;

/**
 * Pub/sub permissions (docs/security.md): `pub=GLOB` or `sub=GLOB`, `*` matching any run of characters. Empty: this
 * layer restricts nothing. Shared by the channel and security definition schemas.
 */
export const TopicPatternsSchema = Type.Array(
  Type.String({ minLength: 5, maxLength: 260, pattern: '^(pub|sub)=[^\\s]' }),
  {
    maxItems: MAX_TOPIC_PATTERNS,
    description: 'pub/sub permissions: pub=/orders/* or sub=/orders/*; empty: any topic',
  },
);

/** The admin API body for creating or replacing a security definition. */
export const SecurityInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'unique name' }),
    type: Type.Union(
      SECURITY_TYPES.map((t) => Type.Literal(t)),
      { description: 'basic_auth: a user name and password; apikey: a key alone' },
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'basic_auth user name' })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'the password or key (write-only)' })),
    secret: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'the same as password, for API keys (write-only)' }),
    ),
    topicPatterns: Type.Optional(TopicPatternsSchema),
  },
  { additionalProperties: false },
);
export type SecurityInput = Static<typeof SecurityInputSchema>;

/** What the API returns: never the secret. */
export const SecurityViewSchema = Type.Object({
  name: Type.String(),
  type: Type.Union(SECURITY_TYPES.map((t) => Type.Literal(t))),
  username: Type.Optional(Type.String()),
  topicPatterns: Type.Optional(Type.Array(Type.String())),
});
export type SecurityView = Static<typeof SecurityViewSchema>;
