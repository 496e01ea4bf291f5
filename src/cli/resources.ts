import type { TObject } from '@sinclair/typebox';
// The schema-only entries (config.ts), not the parts' indexes: those load the whole server (~0.4 s) for a command
// that only sends HTTP requests.
import { ChannelConfigSchema } from '../channels/wsx/config.js';
import { OutgoingConfigSchema } from '../outgoing/wsx/config.js';
import { TopicConfigSchema } from '../pubsub/config.js';
import { SecurityInputSchema } from '../security/config.js';
import { flagsOf, type SchemaFlag } from './schema-flags.js';

/** A kind of object the admin API manages by name, with list/get/create/update/delete. */
export interface Resource {
  readonly noun: string;
  readonly plural: string;
  readonly path: string;
  readonly columns: readonly string[];
  /** The body the API's POST/PUT takes; the flags are generated from it. */
  readonly schema: TObject;
  readonly flags: readonly SchemaFlag[];
  /** Help lines for flags that are not fields (`--password-stdin`). */
  readonly moreHelp: readonly string[];
}

/**
 * Spellings from before the flags were generated, kept so that scripts written for them still work: each maps onto
 * the generated switch it stands for.
 */
export const LEGACY_SWITCHES: Readonly<Record<string, string>> = { inactive: 'no-active', 'not-zato': 'no-zato' };

function resource(
  noun: string,
  plural: string,
  path: string,
  columns: readonly string[],
  schema: TObject,
  moreHelp: readonly string[] = [],
): Resource {
  return { noun, plural, path, columns, schema, flags: flagsOf(schema), moreHelp };
}

export const CHANNEL = resource(
  'channel',
  'channels',
  '/api/channels/wsx',
  ['name', 'address', 'protocol', 'service', 'runtime.state', 'runtime.connections'],
  ChannelConfigSchema,
);

export const OUTGOING = resource(
  'outgoing',
  'outgoing connections',
  '/api/outgoing/wsx',
  ['name', 'address', 'isZato', 'runtime.state', 'runtime.connected', 'runtime.lastError'],
  OutgoingConfigSchema,
);

export const SECURITY = resource(
  'security',
  'security definitions',
  '/api/security',
  ['name', 'type', 'username'],
  SecurityInputSchema,
  [
    '  --password-stdin                         read the password from standard input instead',
    '  --secret-stdin                           read the secret (an API key, a jwt HMAC key) from standard input',
  ],
);

export const TOPIC = resource(
  'topic',
  'topics',
  '/api/pubsub/topics',
  ['name', 'hasGd', 'depth.gd', 'depth.nonGd', 'depth.subscriptions', 'depth.lastPublishedAt'],
  TopicConfigSchema,
);

export const RESOURCES: readonly Resource[] = [CHANNEL, OUTGOING, SECURITY, TOPIC];
