// How a channel's clients prove who they are, as AsyncAPI security schemes. A zato channel takes credentials in
// `create-session`, a plain one with the WebSocket handshake (docs/security.md), so one definition gives each
// protocol its own scheme.
import type { SecurityType } from '../../security/index.js';
import type { DocumentParts, Ref } from './parts.js';

type Protocol = 'zato' | 'plain';

interface Scheme {
  readonly suffix: string;
  readonly scheme: { readonly type: string } & Readonly<Record<string, string>>;
  readonly how: string;
}

const ZATO: Record<SecurityType, readonly Scheme[]> = {
  basic_auth: [
    { suffix: 'userPassword', scheme: { type: 'userPassword' }, how: 'meta.username and meta.secret of create-session' },
  ],
  apikey: [{ suffix: 'apiKey', scheme: { type: 'apiKey', in: 'password' }, how: 'the key as meta.secret of create-session' }],
  jwt: [
    {
      suffix: 'jwt',
      scheme: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      how: 'the JWT as meta.secret of create-session (no username); a repeated create-session with a fresh one renews it',
    },
  ],
};

const BASIC: Scheme = {
  suffix: 'httpBasic',
  scheme: { type: 'http', scheme: 'basic' },
  how: 'Authorization: Basic on the WebSocket handshake',
};

const PLAIN: Record<SecurityType, readonly Scheme[]> = {
  basic_auth: [BASIC],
  apikey: [{ ...BASIC, how: `${BASIC.how}, with the key as the password (the user name is not checked)` }],
  jwt: [
    {
      suffix: 'httpBearer',
      scheme: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      how: 'Authorization: Bearer <JWT> on the WebSocket handshake',
    },
    {
      suffix: 'accessToken',
      scheme: { type: 'httpApiKey', in: 'query', name: 'access_token' },
      how: '?access_token=<JWT> on the URL, for browsers (they cannot set headers on a WebSocket)',
    },
  ],
};

/** A security definition as its name and kind (what the admin API shows of it). */
export interface SecurityEntry {
  readonly name: string;
  readonly type: SecurityType;
}

/**
 * The `$ref`s of the schemes a channel's clients may use, any one of which will do (AsyncAPI's `security` lists
 * alternatives); none for a channel without security.
 */
export function channelSecurity(parts: DocumentParts, protocol: Protocol, security: SecurityEntry | undefined): Ref[] {
  if (!security) return [];
  const schemes = (protocol === 'zato' ? ZATO : PLAIN)[security.type];
  return schemes.map((s) =>
    parts.securityScheme(`${security.name}.${s.suffix}`, () => ({
      ...s.scheme,
      description: `Security definition ${security.name} (${security.type}): ${s.how}.`,
    })),
  );
}
