import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../../errors/index.js';

const Seconds = (def: string, min = 0, max = 86_400) => Type.Number({ minimum: min, maximum: max, description: def });

/** Reconnect backoff: delay n = random(0, min(max, initial × factor^n)) seconds ("full jitter"). */
export const ReconnectSchema = Type.Object(
  {
    initial: Type.Optional(Seconds('first delay, s (0.5)', 0.001, 3600)),
    factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
    max: Type.Optional(Seconds('largest delay, s (30)', 0.001, 86_400)),
    resetAfter: Type.Optional(Seconds('a connection up this long resets the backoff, s (5)', 0, 86_400)),
  },
  { additionalProperties: false },
);

/** An outgoing WebSocket connection as stored and as the admin API takes it (DESIGN.md §5). Times in seconds. */
export const OutgoingConfigSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    isActive: Type.Optional(Type.Boolean()),
    address: Type.String({ minLength: 1, maxLength: 2048, description: 'ws://host:port/path or wss://…' }),
    isZato: Type.Optional(Type.Boolean()),
    dataFormat: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('json')])),
    security: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    onConnectService: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    onMessageService: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    onCloseService: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()])),
    subscriptionList: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    hasAutoReconnect: Type.Optional(Type.Boolean()),
    pingInterval: Type.Optional(Seconds('ping every n s; 0 = off (30)')),
    responseTimeout: Type.Optional(Seconds('zato remote: reply wait, s (5)', 0.001, 3600)),
    acquireTimeout: Type.Optional(Seconds('client() wait for a connected socket, s (5)', 0, 3600)),
    connectTimeout: Type.Optional(Seconds('whole upgrade, and then session, deadline, s (10)', 0.001, 3600)),
    maxMessageSize: Type.Optional(Type.Integer({ minimum: 64, maximum: 256 * 1024 * 1024 })),
    maxPendingRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxConcurrentMessages: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'remote messages in the MESSAGE hook at once per socket; then reading pauses (64)' })),
    maxBufferedBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, description: 'bytes waiting to be written per socket; then sends are refused (8 MiB)' })),
    reconnect: Type.Optional(ReconnectSchema),
  },
  { additionalProperties: false },
);
export type OutgoingInput = Static<typeof OutgoingConfigSchema>;

/** Backoff settings with defaults filled in. */
export interface ReconnectConfig {
  initial: number;
  factor: number;
  max: number;
  resetAfter: number;
}

/** An outgoing connection with every default filled in. */
export interface OutgoingConfig {
  name: string;
  isActive: boolean;
  address: string;
  isZato: boolean;
  dataFormat: 'text' | 'json';
  security: string | null;
  onConnectService: string | null;
  onMessageService: string | null;
  onCloseService: string | null;
  subscriptionList: string[];
  poolSize: number;
  hasAutoReconnect: boolean;
  pingInterval: number;
  responseTimeout: number;
  acquireTimeout: number;
  connectTimeout: number;
  maxMessageSize: number;
  maxPendingRequests: number;
  /** Messages from the remote handed to the MESSAGE hook at the same time, per socket; beyond, reading pauses. */
  maxConcurrentMessages: number;
  /** Bytes queued for writing to a remote that does not read, per socket; beyond, sends are refused. */
  maxBufferedBytes: number;
  reconnect: ReconnectConfig;
}

export const reconnectDefaults: ReconnectConfig = { initial: 0.5, factor: 2, max: 30, resetAfter: 5 };

export const outgoingDefaults: Omit<OutgoingConfig, 'name' | 'address'> = {
  isActive: true,
  isZato: false,
  dataFormat: 'text',
  security: null,
  onConnectService: null,
  onMessageService: null,
  onCloseService: null,
  subscriptionList: [],
  poolSize: 1,
  hasAutoReconnect: true,
  pingInterval: 30,
  responseTimeout: 5,
  acquireTimeout: 5,
  connectTimeout: 10,
  // A 16 MiB frame of tiny JSON values parses into ~240 MB of heap: 4 MiB still takes a full pub/sub batch
  // (1 MiB of message data, escaped) with room to spare.
  maxMessageSize: 4 * 1024 * 1024,
  maxPendingRequests: 10_000,
  maxConcurrentMessages: 64,
  maxBufferedBytes: 8 * 1024 * 1024,
  reconnect: reconnectDefaults,
};

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks the address (ws:// or wss://) and fills in defaults. */
export function normalizeOutgoing(input: OutgoingInput): OutgoingConfig {
  let url: URL;
  try {
    url = new URL(input.address);
  } catch {
    throw new ValidationError('invalid_input', `Not a valid address: ${input.address} (expected ws://host:port/path)`, { field: 'address' });
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ValidationError('invalid_input', `The address must start with ws:// or wss:// (got ${url.protocol}//)`, { field: 'address' });
  }
  const reconnect = { ...reconnectDefaults, ...stripUndefined(input.reconnect ?? {}) };
  if (reconnect.max < reconnect.initial) throw new ValidationError('invalid_input', 'reconnect.max must not be below reconnect.initial', { field: 'reconnect.max' });
  return {
    name: input.name,
    address: input.address,
    ...outgoingDefaults,
    ...stripUndefined(input),
    subscriptionList: [...(input.subscriptionList ?? [])],
    reconnect,
  } as OutgoingConfig;
}
