// The AsyncAPI 3.0 document of a server's channels, services and topics: pure, from plain inputs, so that the same
// configuration always gives the same document (`GET /api/asyncapi.json`, `switchboard export --asyncapi`).
import type { SimpleIO } from '../../services/index.js';
import { addChannel, type ChannelEntry } from './channels.js';
import { DocumentParts, type AsyncApiObject, type Ref } from './parts.js';
import type { SecurityEntry } from './security.js';
import { addTopic, type TopicEntry } from './topics.js';

export type { ChannelEntry } from './channels.js';
export type { SecurityEntry } from './security.js';
export type { TopicEntry } from './topics.js';

/** Everything the document is generated from. */
export interface AsyncApiInput {
  /** The package version (`info.version`). */
  readonly version: string;
  /** This server's name. */
  readonly serverName: string;
  readonly channels: readonly ChannelEntry[];
  readonly security: readonly SecurityEntry[];
  /** The deployed services and their SimpleIO declarations. */
  readonly services: ReadonlyArray<{ readonly name: string; readonly io: SimpleIO | undefined }>;
  readonly topics: readonly TopicEntry[];
}

/** An AsyncAPI 3.0.0 document. */
export interface AsyncApiDocument {
  readonly asyncapi: '3.0.0';
  readonly info: AsyncApiObject;
  readonly defaultContentType: string;
  readonly servers: Readonly<Record<string, AsyncApiObject>>;
  readonly channels: Readonly<Record<string, AsyncApiObject>>;
  readonly operations: Readonly<Record<string, AsyncApiObject>>;
  readonly components: AsyncApiObject;
}

const byName = <T extends { readonly name: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/**
 * Describes every channel (its address, protocol and security; the WSX frames of zato channels; the request and
 * response of each service it mounts, from SimpleIO) and every topic (publish and subscribe), from the point of
 * view of a client: `send` is what a client sends, `receive` what it receives.
 */
export function buildAsyncApi(input: AsyncApiInput): AsyncApiDocument {
  const parts = new DocumentParts(new Map(input.services.map((s) => [s.name, s.io])));
  const security = new Map(input.security.map((s) => [s.name, s]));
  const servers = new Map<string, Ref>();
  for (const channel of byName(input.channels)) {
    const definition = channel.security === null ? undefined : security.get(channel.security);
    servers.set(channel.name, addChannel(parts, channel, definition));
  }
  for (const topic of byName(input.topics)) addTopic(parts, topic, servers);
  return {
    asyncapi: '3.0.0',
    info: {
      title: `Switchboard ${input.serverName}`,
      version: input.version,
      description:
        'The WebSocket channels, services and pub/sub topics of this server, as configured now, from the point of ' +
        'view of a client: send operations are what a client sends, receive operations what it receives. ' +
        'Zato-protocol channels speak WSX (docs/protocol.md); plain channels pass messages to their service as is.',
    },
    defaultContentType: 'application/json',
    servers: parts.servers,
    channels: parts.channels,
    operations: parts.operations,
    components: {
      schemas: parts.schemas,
      messages: parts.messages,
      securitySchemes: parts.securitySchemes,
    },
  };
}
