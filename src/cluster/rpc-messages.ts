// The notifications servers send each other about clients (cluster-notes §3.3, §3.6), and their checks: a payload is
// JSON from another process, so anything malformed is refused, never trusted.

/** What a call asks the server holding the client to do. */
export type CallKind = 'invoke' | 'send' | 'disconnect';

/** Data carried inline, or as the id of a `cluster_blob` row when the notification would be too long. */
export interface Carried {
  readonly data?: unknown;
  readonly blob?: string;
}

/** A call to a client of another server, on that server's channel. */
export interface CallRequest extends Carried {
  readonly t: CallKind;
  readonly rid: string;
  /** The caller's server id: the reply goes to its channel. */
  readonly from: string;
  readonly channel: string;
  readonly pubClientId: string;
  /** Milliseconds the client has to answer an invoke. */
  readonly timeout: number;
  readonly code?: number;
  readonly reason?: string;
}

/** The error a call ended with, as the caller will throw it. */
export interface CallError {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

/** The answer to a {@link CallRequest}, on the caller's channel. */
export interface CallReply extends Carried {
  readonly t: 'reply';
  readonly rid: string;
  readonly ok: boolean;
  readonly error?: CallError;
}

/** A broadcast every server applies to its own clients of the channel. */
export interface BroadcastNotice extends Carried {
  readonly origin: string;
  readonly channel: string;
}

/** Servers the housekeeper reaped: calls waiting for them fail at once. */
export interface GoneNotice {
  readonly gone: readonly string[];
}

const SERVER_ID = /^srv\.[0-9a-f]{16}$/;
const KINDS: ReadonlySet<string> = new Set(['invoke', 'send', 'disconnect']);
const MAX_TIMEOUT_MS = 600_000;

/** The channel suffix of a server's own notifications: `srv_<16 hex>` (`srv.<16 hex>` is its id). */
export function serverSuffix(serverId: string): string {
  return `srv_${serverId.slice(4)}`;
}

/** True for a server id as Membership makes them. */
export function isServerId(value: unknown): value is string {
  return typeof value === 'string' && SERVER_ID.test(value);
}

type Json = Record<string, unknown>;

function object(payload: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 512;
const blobOk = (m: Json) => m.blob === undefined || (typeof m.blob === 'string' && /^[0-9]{1,19}$/.test(m.blob));

/** A request or a reply received on this server's channel; undefined when it is neither. */
export function parseDirect(payload: string): CallRequest | CallReply | undefined {
  const m = object(payload);
  if (!m || !text(m.rid) || !blobOk(m)) return undefined;
  if (m.t === 'reply') return typeof m.ok === 'boolean' && (m.ok || callError(m.error)) ? (m as unknown as CallReply) : undefined;
  if (typeof m.t !== 'string' || !KINDS.has(m.t) || !isServerId(m.from) || !text(m.channel) || !text(m.pubClientId))
    return undefined;
  const timeout = m.timeout;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS) return undefined;
  if (m.code !== undefined && !(Number.isInteger(m.code) && (m.code as number) >= 1000 && (m.code as number) <= 4999))
    return undefined;
  if (m.reason !== undefined && typeof m.reason !== 'string') return undefined;
  return m as unknown as CallRequest;
}

function callError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Json;
  return typeof e.code === 'string' && typeof e.message === 'string' && Number.isInteger(e.status);
}

/** A broadcast notice; undefined when malformed. */
export function parseBroadcast(payload: string): BroadcastNotice | undefined {
  const m = object(payload);
  if (!m || !isServerId(m.origin) || !text(m.channel) || !blobOk(m)) return undefined;
  return m as unknown as BroadcastNotice;
}

/** A notice of reaped servers; undefined when malformed. */
export function parseGone(payload: string): GoneNotice | undefined {
  const m = object(payload);
  if (!m || !Array.isArray(m.gone) || !m.gone.every(isServerId)) return undefined;
  return { gone: m.gone };
}
