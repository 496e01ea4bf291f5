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
  maxConnections: number | null;
  allowedOrigins: string[];
  hookService: string | null;
  gatewayServices: string[];
}

/** Defaults of DESIGN.md §3 (Zato 3.2's, with a 1 MiB message limit instead of ws's 100 MiB). */
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
  maxConnections: null,
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
    throw new ValidationError('address', `Not a valid address: ${address} (expected ws://host:port/path)`);
  }
  if (url.protocol === 'wss:') {
    throw new ValidationError('address', 'wss:// is not supported by channels yet: terminate TLS at a reverse proxy and use ws://');
  }
  if (url.protocol !== 'ws:') throw new ValidationError('address', `The address must start with ws:// (got ${url.protocol}//)`);
  if (!url.port) throw new ValidationError('address', 'The address must name a port, e.g. ws://0.0.0.0:48900/orders');
  if (url.search || url.hash) throw new ValidationError('address', 'The address must not have a query or fragment');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  const path = url.pathname || '/';
  return { host, port, path, key: `${host}:${port}` };
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
