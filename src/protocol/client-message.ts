import { ACTION, type Action } from './constants.js';

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
  code: 'invalid_json' | 'missing_meta' | 'missing_meta_id' | 'unknown_action' | 'invalid_meta';
  status: 400;
  message: string;
  inReplyTo?: string;
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: FrameError };

const ACTIONS = new Set<string>(Object.values(ACTION));

function fail(code: FrameError['code'], message: string, inReplyTo?: string): ParseResult {
  const error: FrameError = { code, status: 400, message };
  if (inReplyTo !== undefined) error.inReplyTo = inReplyTo;
  return { ok: false, error };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Zato accepts `client_name` as a string or an object flattened to `k: v; k2: v2`. */
export function flattenClientName(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isRecord(value)) {
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('; ');
  }
  return String(value);
}

function optionalString(meta: Record<string, unknown>, key: string): string | undefined {
  const v = meta[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/**
 * Parses one text frame of the WSX protocol. Unlike Zato, which silently drops bad frames,
 * every failure is reported so that the caller can answer with an error frame.
 */
export function parseClientFrame(text: string): ParseResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail('invalid_json', `Invalid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(parsed) || !isRecord(parsed.meta)) {
    return fail('missing_meta', 'Every message must be a JSON object with a "meta" object');
  }
  const meta = parsed.meta;
  const id = meta.id;
  if (typeof id !== 'string' && typeof id !== 'number') {
    return fail('missing_meta_id', 'meta.id is required');
  }
  const idText = String(id);
  if (idText.length === 0 || idText.length > 256) return fail('invalid_meta', 'meta.id must be 1-256 characters', idText);
  const action = meta.action ?? ACTION.CLIENT_RESPONSE;
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    return fail('unknown_action', `Unknown meta.action: ${JSON.stringify(action)}`, idText);
  }
  const clientMeta: ClientMeta = { action: action as Action, id: idText };
  // Read field by field (not in a loop over names): this runs for every message.
  const timestamp = optionalString(meta, 'timestamp');
  if (timestamp !== undefined) clientMeta.timestamp = timestamp;
  const token = optionalString(meta, 'token');
  if (token !== undefined) clientMeta.token = token;
  const inReplyTo = optionalString(meta, 'in_reply_to');
  if (inReplyTo !== undefined) clientMeta.in_reply_to = inReplyTo;
  if (action === ACTION.CREATE_SESSION) {
    const username = optionalString(meta, 'username');
    if (username !== undefined) clientMeta.username = username;
    const secret = optionalString(meta, 'secret');
    if (secret !== undefined) clientMeta.secret = secret;
  }
  const clientId = optionalString(meta, 'client_id');
  if (clientId !== undefined) clientMeta.client_id = clientId;
  const clientName = flattenClientName(meta.client_name);
  if (clientName !== undefined) clientMeta.client_name = clientName;
  return { ok: true, message: { meta: clientMeta, data: parsed.data === undefined ? {} : parsed.data } };
}
