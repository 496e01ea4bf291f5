// A Switchboard channel as an AsyncAPI server (where and how to connect), channel (the messages on its socket)
// and operations (what a client sends and receives there), with the payloads of the services it mounts.
import type { ChannelConfig } from '../../channels/wsx/index.js';
import { MSG_TYPE, type JsonSchema } from '../../protocol/index.js';
import { GATEWAY_SERVICE, gatewayAllows } from '../../services/index.js';
import { invokeFrame, message, okFrame, shared, type SharedMessage } from './messages.js';
import { Keys, messageRef, type AsyncApiObject, type DocumentParts, type Ref } from './parts.js';
import { channelSecurity, type SecurityEntry } from './security.js';

/** What the document needs of a channel: its configuration, and where it is served when that differs. */
export type ChannelEntry = Pick<
  ChannelConfig,
  'name' | 'address' | 'protocol' | 'dataFormat' | 'service' | 'security' | 'gatewayServices' | 'isActive'
> & {
  /** The address the channel is actually served on (the server's `portOffset`), when not its own. */
  readonly listenAddress?: string | undefined;
};

/** The services a client of the channel can call: the channel's service, or what its gateway allows. */
function mountedServices(parts: DocumentParts, channel: ChannelEntry): string[] {
  if (channel.service !== GATEWAY_SERVICE) return [channel.service];
  return parts.serviceNames().filter((name) => gatewayAllows(name, channel.gatewayServices));
}

/** A service's request as the channel takes it: as is, or `{ service, request }` through the gateway. */
function requestSchema(channel: ChannelEntry, service: string, input: JsonSchema): JsonSchema {
  if (channel.service !== GATEWAY_SERVICE) return input;
  return {
    type: 'object',
    properties: { service: { const: service }, request: input },
    required: ['service'],
    description: `through the gateway (${GATEWAY_SERVICE}): the service to call and its request`,
  };
}

function describe(channel: ChannelEntry, url: string): string {
  const kind =
    channel.protocol === 'zato' ? 'Zato WSX protocol (docs/protocol.md)' : `plain WebSocket, ${channel.dataFormat} messages`;
  const security = channel.security ? `security definition ${channel.security}` : 'no security';
  const state = channel.isActive ? '' : ' Inactive: not listening until it is activated.';
  return `Channel ${channel.name} at ${url}: ${kind}; service ${channel.service}; ${security}.${state}`;
}

/** Adds a channel's server, channel and operations to the document; returns the server's `$ref`. */
export function addChannel(parts: DocumentParts, channel: ChannelEntry, security: SecurityEntry | undefined): Ref {
  const url = new URL(channel.listenAddress ?? channel.address);
  const key = parts.channelKey(channel.name);
  const description = describe(channel, url.href);
  const schemes = channelSecurity(parts, channel.protocol, security);
  const server = parts.addServer(key, {
    host: url.host,
    protocol: url.protocol.slice(0, -1),
    title: channel.name,
    description,
    ...(schemes.length ? { security: schemes } : {}),
  });
  const services = mountedServices(parts, channel);
  const build = channel.protocol === 'zato' ? zatoChannel : plainChannel;
  build(parts, channel, services, {
    key,
    base: { address: url.pathname, title: channel.name, description, servers: [server], 'x-switchboard-url': url.href },
  });
  return server;
}

interface ChannelShell {
  readonly key: string;
  readonly base: AsyncApiObject;
}

type Operation = {
  readonly action: 'send' | 'receive';
  readonly summary: string;
  readonly messages: readonly string[];
  readonly reply?: readonly string[];
};

/** Adds the channel with its messages, then each operation, naming the messages by their key in the channel. */
function addWithOperations(
  parts: DocumentParts,
  shell: ChannelShell,
  messages: Record<string, AsyncApiObject | Ref>,
  operations: Record<string, Operation>,
): void {
  const channel = parts.addChannel(shell.key, { ...shell.base, messages });
  for (const [name, op] of Object.entries(operations)) {
    const refs = (keys: readonly string[]) => keys.map((m) => messageRef(channel, m));
    parts.addOperation(`${shell.key}.${name}`, {
      action: op.action,
      channel,
      summary: op.summary,
      messages: refs(op.messages),
      ...(op.reply ? { reply: { channel, messages: refs(op.reply) } } : {}),
    });
  }
}

const sharedIn = (parts: DocumentParts, keys: Record<string, SharedMessage>) =>
  Object.fromEntries(Object.entries(keys).map(([name, key]) => [name, shared(parts, key)]));

function zatoChannel(parts: DocumentParts, channel: ChannelEntry, services: readonly string[], shell: ChannelShell): void {
  const messages: Record<string, AsyncApiObject | Ref> = sharedIn(parts, {
    createSession: 'wsx.createSession',
    sessionCreated: 'wsx.sessionCreated',
    errorResponse: 'wsx.errorResponse',
    errorMessage: 'wsx.errorMessage',
    serverRequest: 'wsx.serverRequest',
    clientResponse: 'wsx.clientResponse',
    pubsubDelivery: 'wsx.pubsubDelivery',
  });
  const operations: Record<string, Operation> = {
    createSession: {
      action: 'send',
      summary: 'Create a session (credentials when the channel has security)',
      messages: ['createSession'],
      reply: ['sessionCreated', 'errorMessage'],
    },
  };
  const keys = new Keys();
  for (const service of services) {
    const key = keys.take(service);
    const { input, output } = parts.servicePayloads(service);
    messages[`${key}.request`] = message(
      'invoke-service',
      `Call ${service}`,
      invokeFrame(parts, requestSchema(channel, service, input)),
    );
    messages[`${key}.response`] = message(MSG_TYPE.OK_RESPONSE, `The response of ${service}`, okFrame(parts, output));
    operations[`invoke.${key}`] = {
      action: 'send',
      summary: `Invoke ${service}; match the reply by in_reply_to`,
      messages: [`${key}.request`],
      reply: [`${key}.response`, 'errorResponse'],
    };
  }
  operations.serverRequest = {
    action: 'receive',
    summary: "Answer a service's request",
    messages: ['serverRequest'],
    reply: ['clientResponse'],
  };
  operations.pubsubDelivery = {
    action: 'receive',
    summary: 'Receive pub/sub deliveries (acknowledge them with client-response under ack_mode client)',
    messages: ['pubsubDelivery'],
    reply: ['clientResponse'],
  };
  operations.errorMessage = { action: 'receive', summary: 'Errors tied to no request', messages: ['errorMessage'] };
  addWithOperations(parts, shell, messages, operations);
}

function plainChannel(parts: DocumentParts, channel: ChannelEntry, services: readonly string[], shell: ChannelShell): void {
  const messages: Record<string, AsyncApiObject | Ref> = sharedIn(parts, { error: 'plain.error', push: 'plain.push' });
  const operations: Record<string, Operation> = {};
  const text = channel.dataFormat === 'text';
  const keys = new Keys();
  for (const service of services) {
    const key = keys.take(service);
    const { input, output } = parts.servicePayloads(service);
    const request = text
      ? { type: 'string', description: 'the text frame, as the request' }
      : requestSchema(channel, service, input);
    messages[`${key}.request`] = message('request', `A message for ${service}`, request, text ? 'text/plain' : undefined);
    messages[`${key}.response`] = message(
      'response',
      `What ${service} returns (nothing is sent when it returns nothing)`,
      output,
    );
    operations[`send.${key}`] = {
      action: 'send',
      summary: `Send a message to ${service}; replies come in the order of the messages`,
      messages: [`${key}.request`],
      reply: [`${key}.response`, 'error'],
    };
  }
  operations.push = { action: 'receive', summary: 'Messages services send to this client', messages: ['push'] };
  addWithOperations(parts, shell, messages, operations);
}
