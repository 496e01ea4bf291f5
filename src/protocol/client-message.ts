import { CODES, type StatusOf } from '../errors/index.js';
import { ACTION, MAX_META_LENGTH, type Action } from './constants.js';
import { parseJsonBounded } from './json.js';

/** The `meta` object of a client → server frame, with the fields Switchboard reads. */
export interface ClientMeta {
  action: Action;
  id: string;
  timestamp?: string;
  token?: string;
  username?: string;
  secret?: string;
  client_id?: string;
  client_name?: string;
  in_reply_to?: string;
}

/** A parsed, structurally valid client frame. */
export interface ClientMessage {
  meta: ClientMeta;
  data: unknown;
}

/** Why a frame could not be parsed; `inReplyTo` is set when the frame's id could be read. */
export interface FrameError {
  code: 'invalid_json' | 'too_deep' | 'missing_meta' | 'missing_meta_id' | 'unknown_action' | 'invalid_meta';
  status: StatusOf<FrameError['code']>;
  message: string;
  inReplyTo?: string;
  /** The action of the frame, when it could be read (a refused `create-session` is answered differently). */
  action?: Action;
  /** The `meta` field at fault (`invalid_meta`). */
  field?: string;
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: FrameError };

type MetaKey = keyof typeof MAX_META_LENGTH;
type FieldResult = { ok: true; value: string | undefined } | { ok: false; message: string };

const ACTIONS = new Set<string>(Object.values(ACTION));
const ABSENT: FieldResult = { ok: true, value: undefined };

function fail(
  code: FrameError['code'],
  message: string,
  extra: Omit<FrameError, 'code' | 'status' | 'message'> = {},
): ParseResult {
  return { ok: false, error: { code, status: CODES[code].status, message, ...extra } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tooLong(key: string): FieldResult {
  return { ok: false, message: `meta.${key} must be at most ${MAX_META_LENGTH[key as MetaKey]} characters` };
}

/** A string field (absent when undefined or null); any other type is refused, never coerced with String(). */
// Fields are passed as values, read by name at the call site: a load keyed by a variable name is megamorphic in V8
// (KeyedLoadIC_Megamorphic in the gateway's profile, docs/benchmarks.md; bench/micro/parse-client-frame.mjs).
function stringField(v: unknown, key: MetaKey): FieldResult {
  if (v === undefined || v === null) return ABSENT;
  if (typeof v !== 'string') return { ok: false, message: `meta.${key} must be a string` };
  return v.length > MAX_META_LENGTH[key] ? tooLong(key) : { ok: true, value: v };
}

/** Like `stringField`, but a finite number is accepted and turned into its text (hand-written clients send them). */
function idLikeField(v: unknown, key: MetaKey): FieldResult {
  if (typeof v === 'number')
    return Number.isFinite(v)
      ? { ok: true, value: String(v) }
      : { ok: false, message: `meta.${key} must be a string or a finite number` };
  return stringField(v, key);
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

const CLIENT_NAME_TYPE = 'meta.client_name must be a string or an object of scalars';

/**
 * Reads `client_name`: Zato accepts a string or an object flattened to `k: v; k2: v2`. Values must be scalars
 * (nested ones would need a recursive walk) and the result at most 256 characters; building stops as soon as
 * it is longer, so a 100k-key object costs no more than the limit.
 */
function clientNameField(value: unknown): FieldResult {
  if (value === undefined || value === null) return ABSENT;
  const max = MAX_META_LENGTH.client_name;
  const scalar = scalarText(value);
  if (scalar !== undefined) return scalar.length > max ? tooLong('client_name') : { ok: true, value: scalar };
  if (!isRecord(value)) return { ok: false, message: CLIENT_NAME_TYPE };
  let out = '';
  for (const key of Object.keys(value)) {
    const text = scalarText(value[key]);
    if (text === undefined) return { ok: false, message: CLIENT_NAME_TYPE };
    out += `${out === '' ? '' : '; '}${key}: ${text}`;
    if (out.length > max) return tooLong('client_name');
  }
  return { ok: true, value: out };
}

/**
 * Zato's flattening of `client_name`: a string as is, an object of scalars as `k: v; k2: v2`. Undefined when
 * absent or not acceptable (nested values, over 256 characters); `parseClientFrame` reports the latter.
 */
export function flattenClientName(value: unknown): string | undefined {
  const read = clientNameField(value);
  return read.ok ? read.value : undefined;
}

/** A short, safe description of a rejected value for an error message (never the value itself when large). */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}

function readId(meta: Record<string, unknown>): { ok: true; id: string } | { ok: false; result: ParseResult } {
  const id = meta.id;
  if (id === undefined || id === null) return { ok: false, result: fail('missing_meta_id', 'meta.id is required') };
  const read = idLikeField(id, 'id');
  if (!read.ok) return { ok: false, result: fail('invalid_meta', read.message, { field: 'id' }) };
  // An empty id can still be replied to (as ""); an oversized one is not echoed back.
  if (read.value === '' || read.value === undefined)
    return { ok: false, result: fail('invalid_meta', 'meta.id must be 1-256 characters', { field: 'id', inReplyTo: '' }) };
  return { ok: true, id: read.value };
}

type StringMetaKey = Exclude<keyof ClientMeta, 'action'>;
type BadField = { field: string; message: string };

/** Stores a read field on `out`; returns the error when the field was refused. */
function store(out: ClientMeta, key: StringMetaKey, read: FieldResult): BadField | undefined {
  if (!read.ok) return { field: key, message: read.message };
  if (read.value !== undefined) out[key] = read.value;
  return undefined;
}

/** Copies the fields an action uses into `out` (one by one: this runs for every message); the first bad one is returned. */
function readFields(meta: Record<string, unknown>, action: Action, out: ClientMeta): BadField | undefined {
  const common =
    store(out, 'timestamp', stringField(meta.timestamp, 'timestamp')) ??
    store(out, 'token', stringField(meta.token, 'token')) ??
    store(out, 'in_reply_to', stringField(meta.in_reply_to, 'in_reply_to'));
  // Credentials and the client's identity are used only by create-session; other frames' copies are ignored.
  if (common || action !== ACTION.CREATE_SESSION) return common;
  return (
    store(out, 'username', stringField(meta.username, 'username')) ??
    store(out, 'secret', stringField(meta.secret, 'secret')) ??
    store(out, 'client_id', idLikeField(meta.client_id, 'client_id')) ??
    store(out, 'client_name', clientNameField(meta.client_name))
  );
}

/**
 * Parses one text frame of the WSX protocol. Unlike Zato, which silently drops bad frames, every failure is
 * reported so that the caller can answer with an error frame. Every field read is type-checked and bounded:
 * nothing from the client is coerced with String() (an object with a bad `toString` would throw), and nesting is
 * capped before parsing.
 */
export function parseClientFrame(text: string): ParseResult {
  const json = parseJsonBounded(text);
  if (!json.ok) return fail(json.code, json.message);
  const parsed = json.value;
  if (!isRecord(parsed) || !isRecord(parsed.meta)) {
    return fail('missing_meta', 'Every message must be a JSON object with a "meta" object');
  }
  const meta = parsed.meta;
  const id = readId(meta);
  if (!id.ok) return id.result;
  const action = meta.action ?? ACTION.CLIENT_RESPONSE;
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    return fail('unknown_action', `Unknown meta.action: ${describe(action)}`, { inReplyTo: id.id });
  }
  const clientMeta: ClientMeta = { action: action as Action, id: id.id };
  const bad = readFields(meta, clientMeta.action, clientMeta);
  if (bad) return fail('invalid_meta', bad.message, { inReplyTo: id.id, action: clientMeta.action, field: bad.field });
  return { ok: true, message: { meta: clientMeta, data: parsed.data === undefined ? {} : parsed.data } };
}
