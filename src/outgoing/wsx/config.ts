import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../../errors/index.js';
import { fillDefaults, withDefault, type Filled } from '../../config-schema/index.js';

const Seconds = (description: string, min = 0, max = 86_400) => Type.Number({ minimum: min, maximum: max, description });
const nonEmpty = Type.String({ minLength: 1 });
const hook = (description: string) => withDefault(Type.Union([nonEmpty, Type.Null()], { description }), null);

/** Reconnect backoff: delay n = random(0, min(max, initial × factor^n)) seconds ("full jitter"). */
export const ReconnectSchema = Type.Object(
  {
    initial: withDefault(Seconds('first delay, seconds', 0.001, 3600), 0.5),
    factor: withDefault(Type.Number({ minimum: 1, maximum: 10, description: 'each delay grows by this factor' }), 2),
    max: withDefault(Seconds('largest delay, seconds', 0.001, 86_400), 30),
    resetAfter: withDefault(Seconds('a connection up this long resets the backoff, seconds', 0, 86_400), 5),
  },
  { additionalProperties: false, description: 'reconnect backoff' },
);

/**
 * An outgoing WebSocket connection as stored and as the admin API takes it (DESIGN.md §5). Times in seconds.
 * `maxMessageSize`: a 16 MiB frame of tiny JSON values parses into ~240 MB of heap, while 4 MiB still takes a full
 * pub/sub batch (1 MiB of message data, escaped) with room to spare.
 */
export const OutgoingConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'unique name' }),
    isActive: withDefault(Type.Boolean({ description: 'connected (true) or stopped' }), true),
    address: Type.String({ minLength: 1, maxLength: 2048, description: 'ws://host:port/path or wss://…' }),
    isZato: withDefault(Type.Boolean({ description: 'the remote speaks WSX (Switchboard or Zato)' }), false),
    dataFormat: withDefault(
      Type.Union([Type.Literal('text'), Type.Literal('json')], { description: 'plain remotes: messages as text or JSON' }),
      'text',
    ),
    security: hook('a security definition for create-session'),
    onConnectService: hook('CONNECT hook service'),
    onMessageService: hook('MESSAGE hook service'),
    onCloseService: hook('CLOSE hook service'),
    subscriptionList: withDefault(Type.Array(nonEmpty, { description: 'topics to subscribe to on the remote' }), []),
    poolSize: withDefault(Type.Integer({ minimum: 1, maximum: 64, description: 'sockets to the remote' }), 1),
    hasAutoReconnect: withDefault(Type.Boolean({ description: 'reconnect after losing the remote' }), true),
    pingInterval: withDefault(Seconds('ping every n seconds; 0: off'), 30),
    responseTimeout: withDefault(Seconds('zato remote: seconds to wait for a reply', 0.001, 3600), 5),
    acquireTimeout: withDefault(Seconds('seconds client() waits for a connected socket', 0, 3600), 5),
    connectTimeout: withDefault(Seconds('seconds for the whole upgrade, and then the session', 0.001, 3600), 10),
    maxMessageSize: withDefault(
      Type.Integer({ minimum: 64, maximum: 256 * 1024 * 1024, description: 'largest message from the remote, bytes' }),
      4 * 1024 * 1024,
    ),
    maxPendingRequests: withDefault(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests to the remote awaiting a reply, per socket' }),
      10_000,
    ),
    maxConcurrentMessages: withDefault(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description: 'remote messages in the MESSAGE hook at once per socket; then reading pauses',
      }),
      64,
    ),
    maxBufferedBytes: withDefault(
      Type.Integer({
        minimum: 1024,
        maximum: 1024 * 1024 * 1024,
        description: 'bytes waiting to be written per socket; then sends are refused',
      }),
      8 * 1024 * 1024,
    ),
    reconnect: withDefault(ReconnectSchema, {}),
    tlsCaFile: withDefault(
      Type.Union([nonEmpty, Type.Null()], {
        description:
          "wss:// only: PEM file of the CA (or self-signed certificate) to trust for the remote; null: the system's CAs",
      }),
      null,
    ),
    tlsRejectUnauthorized: withDefault(
      Type.Boolean({ description: 'wss:// only: refuse a remote whose certificate is not trusted; false only for tests' }),
      true,
    ),
  },
  { additionalProperties: false },
);
/** An outgoing connection as the admin API takes it: the optional fields may be left out. */
export type OutgoingInput = Static<typeof OutgoingConfigSchema>;

/** Backoff settings with defaults filled in. */
export type ReconnectConfig = Filled<typeof ReconnectSchema>;

/** An outgoing connection with every default filled in. */
export type OutgoingConfig = Filled<typeof OutgoingConfigSchema>;

/** Checks the address (ws:// or wss://) and fills in defaults. */
export function normalizeOutgoing(input: OutgoingInput): OutgoingConfig {
  let url: URL;
  try {
    url = new URL(input.address);
  } catch {
    throw new ValidationError('invalid_input', `Not a valid address: ${input.address} (expected ws://host:port/path)`, {
      field: 'address',
    });
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ValidationError('invalid_input', `The address must start with ws:// or wss:// (got ${url.protocol}//)`, {
      field: 'address',
    });
  }
  const config = fillDefaults(OutgoingConfigSchema, input);
  if (config.tlsCaFile && url.protocol !== 'wss:')
    throw new ValidationError('invalid_input', 'tlsCaFile is for wss:// addresses only (the address is ws://)', {
      field: 'tlsCaFile',
    });
  if (config.reconnect.max < config.reconnect.initial)
    throw new ValidationError('invalid_input', 'reconnect.max must not be below reconnect.initial', { field: 'reconnect.max' });
  return config;
}
