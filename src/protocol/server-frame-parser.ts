import { MSG_TYPE } from './constants.js';
import type { WsxResponse } from './response.js';

/**
 * Reading server → client frames on the client side (an outgoing connection to a Zato-protocol remote; the
 * client library of a later issue). Browser-safe: no Node-only imports.
 * The remote is not trusted: every field is type-checked here, once, so that the code that acts on a frame
 * never converts a remote value to a string or walks into it. Nothing in this file throws.
 */

/** The longest id, `in_reply_to`, token, `msg_id` or `sub_key` read from a remote (Zato's are under 200). */
export const MAX_REMOTE_ID_LENGTH = 1024;

/** The longest `meta.code` read from a remote. */
const MAX_CODE_LENGTH = 100;

/** A reply to one of our requests (`create-session`, `invoke-service`): any frame with `meta.in_reply_to`. */
export interface RemoteReply {
  readonly kind: 'reply';
  readonly inReplyTo: string;
  /** `meta.msg_type`, '' when absent (a session reply must be `zwsx.rspa`). */
  readonly msgType: string;
  /** The reply as the request resolves with it. */
  readonly response: WsxResponse;
}

/** A frame that names one of our requests in `in_reply_to` but is malformed otherwise. */
export interface RemoteBadReply {
  readonly kind: 'bad-reply';
  readonly inReplyTo: string;
  readonly reason: string;
}

/** `zwsx.merr` not tied to a request (Zato's Forbidden). */
export interface RemoteErrorMessage {
  readonly kind: 'error-message';
  readonly status: number | undefined;
  /** `meta.error_message`, else `data` when that is a string (Zato puts the text there). */
  readonly errorMessage: string | undefined;
  /** `meta.code`, from a Switchboard server (Zato's frames have none). */
  readonly code: string | undefined;
}

/** `zwsx.rqc` (a server → client request) or `zwsx.psrq` (a pub/sub delivery): both answered by `meta.id`. */
export interface RemoteRequest {
  readonly kind: 'client-request' | 'pubsub';
  readonly id: string;
  readonly data: unknown;
}

/** A parsed, type-checked server frame. */
export type RemoteFrame = RemoteReply | RemoteBadReply | RemoteErrorMessage | RemoteRequest;

/** The result of `parseServerFrame`: a frame, or why it is ignored. */
export type ServerFrameParse = { ok: true; frame: RemoteFrame } | { ok: false; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a value's JSON type, for log lines; never prints the value (it may be huge or hostile). */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A string of at most `max` characters, or why not. */
function boundedString(value: unknown, field: string, max: number): { value: string } | { error: string } {
  if (typeof value !== 'string') return { error: `meta.${field} is ${jsonType(value)}, not a string` };
  if (value.length > max) return { error: `meta.${field} is ${value.length} characters long (at most ${max})` };
  return { value };
}

/** An optional field: absent (undefined or null) is fine, present must be a bounded string. */
function optionalString(
  meta: Record<string, unknown>,
  field: string,
  max: number,
): { value: string | undefined } | { error: string } {
  const raw = meta[field];
  if (raw === undefined || raw === null) return { value: undefined };
  return boundedString(raw, field, max);
}

function status(meta: Record<string, unknown>): { value: number | undefined } | { error: string } {
  const raw = meta.status;
  if (raw === undefined || raw === null) return { value: undefined };
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 100 || raw > 999) {
    return { error: `meta.status is ${typeof raw === 'number' ? raw : jsonType(raw)}, not an HTTP status` };
  }
  return { value: raw };
}

/**
 * Parses one text frame from a Zato-protocol remote. Frames with an unknown `msg_type` and no `in_reply_to`
 * are refused (the caller logs and ignores them), as are frames whose fields have the wrong type or size.
 */
export function parseServerFrame(text: string): ServerFrameParse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isRecord(parsed)) return { ok: false, reason: `the frame is ${jsonType(parsed)}, not an object` };
  const meta = parsed.meta;
  if (!isRecord(meta)) return { ok: false, reason: `meta is ${jsonType(meta)}, not an object` };
  if (meta.in_reply_to !== undefined && meta.in_reply_to !== null) return parseReply(meta, parsed.data);
  return parseUnsolicited(meta, parsed.data);
}

function parseReply(meta: Record<string, unknown>, data: unknown): ServerFrameParse {
  const inReplyTo = boundedString(meta.in_reply_to, 'in_reply_to', MAX_REMOTE_ID_LENGTH);
  if ('error' in inReplyTo) return { ok: false, reason: inReplyTo.error };
  const bad = (reason: string): ServerFrameParse => ({
    ok: true,
    frame: { kind: 'bad-reply', inReplyTo: inReplyTo.value, reason },
  });
  const id = optionalString(meta, 'id', MAX_REMOTE_ID_LENGTH);
  if ('error' in id) return bad(id.error);
  const msgType = optionalString(meta, 'msg_type', MAX_CODE_LENGTH);
  if ('error' in msgType) return bad(msgType.error);
  const st = status(meta);
  if ('error' in st) return bad(st.error);
  const errorMessage = optionalString(meta, 'error_message', Number.MAX_SAFE_INTEGER);
  if ('error' in errorMessage) return bad(errorMessage.error);
  const code = optionalString(meta, 'code', MAX_CODE_LENGTH);
  if ('error' in code) return bad(code.error);
  const type = msgType.value ?? '';
  // An error frame that gives no status is an error all the same (a missing status used to read as 200).
  const isErrorType = type === MSG_TYPE.ERROR_RESPONSE || type === MSG_TYPE.ERROR_MESSAGE;
  const replyStatus = st.value ?? (isErrorType ? 500 : 200);
  const response: WsxResponse = {
    id: id.value ?? '',
    status: replyStatus,
    isOk: replyStatus === 200,
    data,
    inReplyTo: inReplyTo.value,
    ...(errorMessage.value === undefined ? {} : { errorMessage: errorMessage.value }),
    ...(code.value === undefined ? {} : { code: code.value }),
  };
  return { ok: true, frame: { kind: 'reply', inReplyTo: inReplyTo.value, msgType: type, response } };
}

function parseUnsolicited(meta: Record<string, unknown>, data: unknown): ServerFrameParse {
  const msgType = boundedString(meta.msg_type, 'msg_type', MAX_CODE_LENGTH);
  if ('error' in msgType) return { ok: false, reason: msgType.error };
  if (msgType.value === MSG_TYPE.ERROR_MESSAGE) return parseErrorMessage(meta, data);
  const kind =
    msgType.value === MSG_TYPE.CLIENT_REQUEST
      ? 'client-request'
      : msgType.value === MSG_TYPE.PUBSUB_REQUEST
        ? 'pubsub'
        : undefined;
  if (!kind) return { ok: false, reason: `unexpected msg_type without in_reply_to (${msgType.value.slice(0, 40)})` };
  const id = boundedString(meta.id, 'id', MAX_REMOTE_ID_LENGTH);
  if ('error' in id) return { ok: false, reason: `${kind === 'pubsub' ? 'zwsx.psrq' : 'zwsx.rqc'}: ${id.error}` };
  return { ok: true, frame: { kind, id: id.value, data } };
}

function parseErrorMessage(meta: Record<string, unknown>, data: unknown): ServerFrameParse {
  const st = status(meta);
  const errorMessage = optionalString(meta, 'error_message', Number.MAX_SAFE_INTEGER);
  // The frame says "error" whatever else is wrong with it: a mistyped field is left out, not a reason to drop it.
  const text =
    'value' in errorMessage && errorMessage.value !== undefined
      ? errorMessage.value
      : typeof data === 'string'
        ? data
        : undefined;
  const readCode = optionalString(meta, 'code', MAX_CODE_LENGTH);
  const code = 'value' in readCode ? readCode.value : undefined;
  return {
    ok: true,
    frame: {
      kind: 'error-message',
      status: 'value' in st ? st.value : undefined,
      errorMessage: text,
      code,
    },
  };
}

/** The session token of a `zwsx.rspa` reply, or why there is none. */
export function sessionToken(reply: RemoteReply): { token: string } | { error: string } {
  const { response } = reply;
  if (reply.msgType !== MSG_TYPE.AUTH_RESPONSE) {
    return {
      error:
        response.errorMessage ??
        `${reply.msgType || 'a frame without msg_type'} (status ${response.status}) instead of zwsx.rspa`,
    };
  }
  const token = isRecord(response.data) ? response.data.token : undefined;
  if (typeof token !== 'string' || token.length === 0) return { error: `the token is ${jsonType(token)}, not a string` };
  if (token.length > MAX_REMOTE_ID_LENGTH)
    return { error: `the token is ${token.length} characters long (at most ${MAX_REMOTE_ID_LENGTH})` };
  return { token };
}

/** One message of a `zwsx.psrq` delivery, with its ids checked. */
export interface PubSubDelivery {
  readonly message: unknown;
  /** `msg_id`, when the message has one (Zato's and Switchboard's always do). */
  readonly msgId: string | undefined;
  readonly subKey: string | undefined;
}

/**
 * The messages of a delivery (`data` is one message or a list). A message whose `msg_id` or `sub_key` is present
 * but not a bounded string is refused: it could be neither deduplicated nor redelivered.
 */
export function pubSubDeliveries(data: unknown): { messages: PubSubDelivery[]; refused: string[] } {
  const messages: PubSubDelivery[] = [];
  const refused: string[] = [];
  for (const message of Array.isArray(data) ? data : [data]) {
    const fields = isRecord(message) ? message : {};
    const msgId = optionalString(fields, 'msg_id', MAX_REMOTE_ID_LENGTH);
    const subKey = optionalString(fields, 'sub_key', MAX_REMOTE_ID_LENGTH);
    if ('error' in msgId) refused.push(msgId.error.replace('meta.', 'data.'));
    else if ('error' in subKey) refused.push(subKey.error.replace('meta.', 'data.'));
    else messages.push({ message, msgId: msgId.value, subKey: subKey.value });
  }
  return { messages, refused };
}
