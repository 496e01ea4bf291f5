import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../../errors/index.js';

/**
 * A WebSocket channel as stored and as the admin API takes it (DESIGN.md §3). Times are seconds.
 * Omitted optional fields take the defaults of `channelDefaults`.
 */
export const ChannelConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    isActive: Type.Optional(Type.Boolean()),
    address: Type.String({ minLength: 1, maxLength: 2048, description: 'ws://host:port/path' }),
    service: Type.String({ minLength: 1, maxLength: 512 }),
    protocol: Type.Optional(Type.Union([Type.Literal('zato'), Type.Literal('plain')])),
    dataFormat: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('json')])),
    security: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    newTokenWaitTime: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
    tokenTtl: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 31_536_000 })),
    pingInterval: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    pingsMissedThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    maxMessageSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 256 * 1024 * 1024 })),
    maxConnections: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    maxConnectionsPerIp: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    invokeTimeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400 })),
    frameTimeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
    allowedOrigins: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    hookService: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    gatewayServices: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);
export type ChannelInput = Static<typeof ChannelConfigSchema>;

/** A channel with every default filled in: what the runtime works with. */
export interface ChannelConfig {
  name: string;
  isActive: boolean;
  address: string;
  service: string;
  protocol: 'zato' | 'plain';
  dataFormat: 'text' | 'json';
  security: string | null;
  newTokenWaitTime: number;
  tokenTtl: number;
  pingInterval: number;
  pingsMissedThreshold: number;
  maxMessageSize: number;
  /** Connections open or being opened at once; null: no limit. */
  maxConnections: number | null;
  /** Connections open or being opened at once from one IP address; null: no limit. */
  maxConnectionsPerIp: number | null;
  /** Service calls in flight per connection; more are answered 429 `too_many_requests` at once. */
  maxInFlight: number;
  /** Seconds a service call may take before the client gets a 504 `timeout` answer. */
  invokeTimeout: number;
  /** Seconds a WebSocket message may take from its first byte to its last before the connection is closed. */
  frameTimeout: number;
  allowedOrigins: string[];
  hookService: string | null;
  gatewayServices: string[];
}

/**
 * Defaults of DESIGN.md §3 (Zato 3.2's, with a 1 MiB message limit instead of ws's 100 MiB), plus limits that
 * bound what one client can hold (docs/channels.md, "Limits"): 256 connections per channel, 64 of them from one
 * address (a NAT gateway or proxy may front many clients, one host must not take the whole channel).
 */
export const channelDefaults: Omit<ChannelConfig, 'name' | 'address' | 'service'> = {
  isActive: true,
  protocol: 'zato',
  dataFormat: 'text',
  security: null,
  newTokenWaitTime: 5,
  tokenTtl: 3600,
  pingInterval: 30,
  pingsMissedThreshold: 2,
  maxMessageSize: 1024 * 1024,
  maxConnections: 256,
  maxConnectionsPerIp: 64,
  maxInFlight: 100,
  invokeTimeout: 30,
  frameTimeout: 10,
  allowedOrigins: [],
  hookService: null,
  gatewayServices: [],
};

/** Where a channel listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** `host:port`: channels with the same key share one listener. */
  readonly key: string;
}

/** Parses `ws://host:port/path`; a missing port or a non-ws scheme is a 400 naming `address`. */
export function parseAddress(address: string): ListenAddress {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ValidationError('invalid_input', `Not a valid address: ${address} (expected ws://host:port/path)`, { field: 'address' });
  }
  if (url.protocol === 'wss:') {
    throw new ValidationError('invalid_input', 'wss:// is not supported by channels yet: terminate TLS at a reverse proxy and use ws://', { field: 'address' });
  }
  if (url.protocol !== 'ws:') throw new ValidationError('invalid_input', `The address must start with ws:// (got ${url.protocol}//)`, { field: 'address' });
  if (!url.port) throw new ValidationError('invalid_input', 'The address must name a port, e.g. ws://0.0.0.0:48900/orders', { field: 'address' });
  if (url.search || url.hash) throw new ValidationError('invalid_input', 'The address must not have a query or fragment', { field: 'address' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  const path = url.pathname || '/';
  return { host, port, path, key: `${host}:${port}` };
}

/**
 * A stored channel with the defaults of fields added since it was stored (stored rows are read as saved).
 * A stored `maxConnections: null` stays unlimited: it was chosen (or defaulted) explicitly.
 */
export function withChannelDefaults(config: ChannelConfig): ChannelConfig {
  return { ...channelDefaults, ...stripUndefined(config) } as ChannelConfig;
}

/** Fills in defaults and checks what the schema cannot (the address). */
export function normalizeChannel(input: ChannelInput): ChannelConfig {
  parseAddress(input.address);
  const config = { name: input.name, address: input.address, service: input.service, ...channelDefaults, ...stripUndefined(input) } as ChannelConfig;
  config.allowedOrigins = [...config.allowedOrigins];
  config.gatewayServices = [...config.gatewayServices];
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
