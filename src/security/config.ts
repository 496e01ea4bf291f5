// The security definition's schemas, apart from its repository, so that the CLI can build its flags from them
// without loading the store (see architecture.json: config.ts is a part's second, schema-only entry).
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../errors/index.js';

/**
 * Kinds of security definition. `basic_auth`: username and password; `apikey`: a secret key alone; `jwt`: a JSON
 * Web Token verified with an HMAC secret, a PEM public key or a JWKS URL (see docs/security.md, "JWT").
 */
export const SECURITY_TYPES = ['basic_auth', 'apikey', 'jwt'] as const;
export type SecurityType = (typeof SECURITY_TYPES)[number];

/** Most patterns one channel or security definition may hold. */
const MAX_TOPIC_PATTERNS = 100;

/**
 * Pub/sub permissions (docs/security.md): `pub=GLOB` or `sub=GLOB`, `*` matching any run of characters. Empty: this
 * layer restricts nothing. Shared by the channel and security definition schemas.
 */
export const TopicPatternsSchema = Type.Array(
  // The `pub=`/`sub=` form is checked by checkTopicPatterns (a schema pattern would reject the CLI's generic items).
  Type.String({ minLength: 1, maxLength: 260 }),
  {
    maxItems: MAX_TOPIC_PATTERNS,
    description: 'pub/sub permissions: pub=/orders/* or sub=/orders/*; empty: any topic',
  },
);
/** JWS algorithms a `jwt` definition may accept (never `none`). */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The `clockTolerance` of a `jwt` definition when none is given, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 30;
/** The largest `clockTolerance` accepted, in seconds. */
export const MAX_CLOCK_TOLERANCE = 300;

/** The admin API body for creating or replacing a security definition. */
export const SecurityInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'unique name' }),
    type: Type.Union(
      SECURITY_TYPES.map((t) => Type.Literal(t)),
      { description: 'basic_auth: a user name and password; apikey: a key alone; jwt: a JSON Web Token' },
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'basic_auth user name' })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'the password or key (write-only)' })),
    secret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'the same as password, for API keys; jwt: the HMAC key (write-only)',
      }),
    ),
    publicKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 16384,
        // Tells the web admin's form to offer a multi-line field: a PEM's line breaks matter.
        contentMediaType: 'application/x-pem-file',
        description: 'jwt: the PEM public key (SPKI) or X.509 certificate that verifies tokens',
      }),
    ),
    jwksUrl: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: 'jwt: an http(s) URL of a JWKS, fetched and cached' }),
    ),
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'jwt: the required iss claim' })),
    audience: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
        minItems: 1,
        maxItems: 50,
        description: 'jwt: accepted aud values (the token must name one)',
      }),
    ),
    algorithms: Type.Optional(
      // Strings, not an enum: a wrong one (`none` above all) gets a 400 saying what is allowed (see jwt.ts).
      Type.Array(Type.String({ minLength: 1, maxLength: 16 }), {
        minItems: 1,
        maxItems: JWT_ALGORITHMS.length,
        uniqueItems: true,
        description: `jwt: accepted algorithms, of ${JWT_ALGORITHMS.join(', ')} (default: by key kind; never none)`,
      }),
    ),
    clockTolerance: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_CLOCK_TOLERANCE,
        description: `jwt: seconds of clock skew allowed on exp and nbf (default ${DEFAULT_CLOCK_TOLERANCE})`,
      }),
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
  /** jwt: never the secret; `publicKey` is public, so it is shown. */
  keyKind: Type.Optional(Type.Union([Type.Literal('secret'), Type.Literal('publicKey'), Type.Literal('jwksUrl')])),
  publicKey: Type.Optional(Type.String()),
  jwksUrl: Type.Optional(Type.String()),
  issuer: Type.Optional(Type.String()),
  audience: Type.Optional(Type.Array(Type.String())),
  algorithms: Type.Optional(Type.Array(Type.String())),
  clockTolerance: Type.Optional(Type.Integer()),
});
export type SecurityView = Static<typeof SecurityViewSchema>;

/** Refuses (400 naming `topicPatterns`) an entry that is not `pub=GLOB` or `sub=GLOB` with a non-blank glob. */
export function checkTopicPatterns(patterns: readonly string[] | undefined): void {
  for (const p of patterns ?? []) {
    if (/^(pub|sub)=\S/.test(p)) continue;
    throw new ValidationError('invalid_input', `topicPatterns entries are pub=GLOB or sub=GLOB (got ${JSON.stringify(p)})`, {
      field: 'topicPatterns',
    });
  }
}
