import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../../errors/index.js';
import { fillDefaults, withDefault, type Filled } from '../../config-schema/index.js';
import { TopicPatternsSchema, checkTopicPatterns } from '../../security/config.js';

const nonEmpty = Type.String({ minLength: 1 });
/**
 * The lowest `messageRate` / `handshakeRate`: one token per 1,000 s. Any rate above 0 would do for the bucket, but a
 * rate such as 1e-320 makes its refill time and `Retry-After` infinite.
 */
const MIN_RATE = 0.001;

/**
 * A WebSocket channel as stored and as the admin API takes it (DESIGN.md §3). Times are seconds. Every optional
 * field carries its default: Zato 3.2's, with a 1 MiB message limit instead of ws's 100 MiB, plus limits that bound
 * what one client can hold (docs/channels.md, "Limits"): 256 connections per channel, 64 of them from one address
 * (a NAT gateway or proxy may front many clients, one host must not take the whole channel).
 */
export const ChannelConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'unique name' }),
    isActive: withDefault(Type.Boolean({ description: 'listening (true) or stopped' }), true),
    address: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'ws://host:port/path, or wss://host:port/path with tlsCertFile and tlsKeyFile',
    }),
    service: Type.String({ minLength: 1, maxLength: 512, description: 'the service invoked for each message' }),
    protocol: withDefault(
      Type.Union([Type.Literal('zato'), Type.Literal('plain')], { description: 'zato (WSX) or plain WebSocket' }),
      'zato',
    ),
    dataFormat: withDefault(
      Type.Union([Type.Literal('text'), Type.Literal('json')], { description: 'plain channels: messages as text or JSON' }),
      'text',
    ),
    security: withDefault(
      Type.Union([nonEmpty, Type.Null()], { description: 'a security definition clients log in with' }),
      null,
    ),
    newTokenWaitTime: withDefault(
      Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'seconds a new connection has to create a session' }),
      5,
    ),
    tokenTtl: withDefault(
      Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000, description: 'session token lifetime, seconds' }),
      3600,
    ),
    pingInterval: withDefault(Type.Number({ minimum: 0, maximum: 86_400, description: 'seconds between pings; 0: off' }), 30),
    pingsMissedThreshold: withDefault(
      Type.Integer({ minimum: 1, maximum: 100, description: 'pings missed in a row before the connection is closed' }),
      2,
    ),
    maxMessageSize: withDefault(
      Type.Integer({ minimum: 64, maximum: 256 * 1024 * 1024, description: 'largest message, bytes' }),
      1024 * 1024,
    ),
    maxConnections: withDefault(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
        description: 'connections open or being opened at once; null: no limit',
      }),
      256,
    ),
    maxConnectionsPerIp: withDefault(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
        description: 'connections open or being opened at once from one IP address; null: no limit',
      }),
      64,
    ),
    maxInFlight: withDefault(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'service calls in flight per connection; more are answered 429 too_many_requests',
      }),
      100,
    ),
    invokeTimeout: withDefault(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 86_400,
        description: 'seconds a service call may take before the client gets 504 timeout',
      }),
      30,
    ),
    frameTimeout: withDefault(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 3600,
        description: 'seconds one message may take from its first byte to its last',
      }),
      10,
    ),
    messageRate: withDefault(
      Type.Union([Type.Number({ minimum: MIN_RATE, maximum: 1_000_000 }), Type.Null()], {
        description:
          'messages per second one connection may send (a token bucket); more are refused with 429 rate_limited; null: no limit',
      }),
      null,
    ),
    messageBurst: withDefault(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
        description: 'messages one connection may send at once before messageRate applies; null: messageRate, rounded up',
      }),
      null,
    ),
    handshakeRate: withDefault(
      Type.Union([Type.Number({ minimum: MIN_RATE, maximum: 1_000_000 }), Type.Null()], {
        description: 'WebSocket handshakes per second from one IP address; more are refused with HTTP 429; null: no limit',
      }),
      null,
    ),
    handshakeBurst: withDefault(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
        description: 'handshakes one IP address may make at once before handshakeRate applies; null: handshakeRate, rounded up',
      }),
      null,
    ),
    compression: withDefault(
      Type.Boolean({
        description: 'offer permessage-deflate to clients (new connections); maxMessageSize applies after inflation',
      }),
      false,
    ),
    allowedOrigins: withDefault(Type.Array(nonEmpty, { description: 'Origin headers accepted; empty: any' }), []),
    hookService: withDefault(
      Type.Union([nonEmpty, Type.Null()], { description: 'a service invoked on connect and disconnect' }),
      null,
    ),
    topicPatterns: withDefault(TopicPatternsSchema, []),
    tlsCertFile: withDefault(
      Type.Union([nonEmpty, Type.Null()], {
        description: 'wss:// only: PEM certificate (chain) file on the server; re-read when it changes',
      }),
      null,
    ),
    tlsKeyFile: withDefault(
      Type.Union([nonEmpty, Type.Null()], { description: "wss:// only: PEM private key file of tlsCertFile's certificate" }),
      null,
    ),
    gatewayServices: withDefault(
      Type.Array(nonEmpty, { description: 'services the gateway may call on this channel, beyond its defaults' }),
      [],
    ),
  },
  { additionalProperties: false },
);
/** A channel as the admin API takes it: the optional fields may be left out. */
export type ChannelInput = Static<typeof ChannelConfigSchema>;

/** A channel with every default filled in: what the runtime works with. */
export type ChannelConfig = Filled<typeof ChannelConfigSchema>;

/** Where a channel listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** `host:port`: channels with the same key share one listener. */
  readonly key: string;
  /** A `wss://` address: served over TLS. */
  readonly tls: boolean;
}

/** Parses `ws://host:port/path` or `wss://…`; a missing port or another scheme is a 400 naming `address`. */
export function parseAddress(address: string): ListenAddress {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ValidationError('invalid_input', `Not a valid address: ${address} (expected ws://host:port/path)`, {
      field: 'address',
    });
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ValidationError('invalid_input', `The address must start with ws:// or wss:// (got ${url.protocol}//)`, {
      field: 'address',
    });
  }
  if (!url.port)
    throw new ValidationError('invalid_input', 'The address must name a port, e.g. ws://0.0.0.0:48900/orders', {
      field: 'address',
    });
  if (url.search || url.hash)
    throw new ValidationError('invalid_input', 'The address must not have a query or fragment', { field: 'address' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  const path = url.pathname || '/';
  return { host, port, path, key: `${host}:${port}`, tls: url.protocol === 'wss:' };
}

/** The TLS files of a channel, undefined for a ws:// one. */
export function channelTlsFiles(config: ChannelConfig): { certFile: string; keyFile: string } | undefined {
  return config.tlsCertFile && config.tlsKeyFile ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile } : undefined;
}

// A burst without its rate would be a silent no-op: the limit is off while the rate is null.
function checkBursts(config: ChannelConfig): void {
  for (const [burst, rate] of [
    ['messageBurst', 'messageRate'],
    ['handshakeBurst', 'handshakeRate'],
  ] as const) {
    if (config[burst] !== null && config[rate] === null)
      throw new ValidationError('invalid_input', `${burst} needs ${rate} (without a rate there is no limit)`, {
        field: burst,
      });
  }
}

// wss:// needs both files, ws:// neither: a file given to a plain channel would be a silent no-op.
function checkTlsFields(config: ChannelConfig, tls: boolean): void {
  for (const field of ['tlsCertFile', 'tlsKeyFile'] as const) {
    if (tls && !config[field])
      throw new ValidationError('invalid_input', `A wss:// address needs ${field} (a PEM file on the server)`, { field });
    if (!tls && config[field])
      throw new ValidationError('invalid_input', `${field} is for wss:// addresses only (the address is ws://)`, { field });
  }
}

/**
 * A stored channel with the defaults of fields added since it was stored (stored rows are read as saved).
 * A stored `maxConnections: null` stays unlimited: it was chosen (or defaulted) explicitly.
 */
export function withChannelDefaults(config: ChannelConfig): ChannelConfig {
  return fillDefaults(ChannelConfigSchema, config);
}

/** Fills in defaults and checks what the schema cannot (the address, the TLS files it needs or refuses, bursts without rates, the pub/sub patterns). */
export function normalizeChannel(input: ChannelInput): ChannelConfig {
  const { tls } = parseAddress(input.address);
  const config = fillDefaults(ChannelConfigSchema, input);
  checkTlsFields(config, tls);
  checkBursts(config);
  checkTopicPatterns(config.topicPatterns);
  return config;
}
