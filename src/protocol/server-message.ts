import { wsxStatusOf } from '../errors/index.js';
import { MSG_TYPE, type MsgType } from './constants.js';
import { newCid, timestamp } from './ids.js';

/** The `meta` object of a server → client frame. */
export interface ServerMeta {
  id: string;
  timestamp: string;
  msg_type: MsgType;
  status?: number;
  in_reply_to?: string;
  error_message?: string;
  /** Switchboard addition: the stable error code on error frames. Zato clients ignore it. */
  code?: string;
}

export interface ServerFrame {
  meta: ServerMeta;
  data?: unknown;
}

function meta(msgType: MsgType, id: string = newCid()): ServerMeta {
  return { id, timestamp: timestamp(), msg_type: msgType };
}

function serialize(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** `zwsx.rspa`: a session was created. */
export function authResponse(inReplyTo: string, token: string): string {
  return serialize({ meta: { ...meta(MSG_TYPE.AUTH_RESPONSE), status: 200, in_reply_to: inReplyTo }, data: { token } });
}

/**
 * `zwsx.rspok`: a service's response; `data` is omitted when the service produced nothing.
 * Built by concatenation because it is the one frame on every call's path; `id` and the timestamp are
 * hex and ISO text, which need no escaping. The output equals `JSON.stringify` of the frame object.
 */
export function okResponse(inReplyTo: string, data: unknown, id: string = newCid()): string {
  const head = `{"meta":{"id":"${id}","timestamp":"${timestamp()}","msg_type":"${MSG_TYPE.OK_RESPONSE}","status":200,"in_reply_to":${JSON.stringify(inReplyTo)}}`;
  const body = data === undefined ? undefined : JSON.stringify(data);
  return body === undefined ? `${head}}` : `${head},"data":${body}}`;
}

/** `zwsx.rsperr`: an error in reply to a client request. */
export function errorResponse(inReplyTo: string, err: { status: number; code: string; message: string }, cid: string): string {
  return serialize({
    meta: {
      ...meta(MSG_TYPE.ERROR_RESPONSE),
      status: wsxStatusOf(err.code, err.status),
      in_reply_to: inReplyTo,
      error_message: err.message,
      code: err.code,
    },
    data: { cid, code: err.code },
  });
}

/**
 * `zwsx.merr`: an error that ends or is not tied to a request (unreadable frame, a refused session). Zato 3.2's
 * `Forbidden` has no `in_reply_to`, and Zato's clients take any frame that has one for the reply they await, so
 * channels send it without; `inReplyTo` is for callers that know their peer expects it.
 */
export function errorMessage(err: { status: number; code: string; message: string }, inReplyTo?: string): string {
  return serialize({
    meta: {
      ...meta(MSG_TYPE.ERROR_MESSAGE),
      status: wsxStatusOf(err.code, err.status),
      ...(inReplyTo === undefined ? {} : { in_reply_to: inReplyTo }),
      error_message: err.message,
      code: err.code,
    },
    data: err.message,
  });
}

/** `zwsx.rqc`: a server → client request; the client answers with `client-response`. */
export function clientRequest(id: string, data: unknown): string {
  return clientRequestEncoded(id, JSON.stringify(data) as string | undefined);
}

/**
 * `zwsx.rqc` around data already JSON-encoded (`undefined`: no `data`), so that a broadcast encodes its data once.
 * The output equals `JSON.stringify` of the frame object.
 */
export function clientRequestEncoded(id: string, dataJson: string | undefined): string {
  const head = `{"meta":{"id":${JSON.stringify(id)},"timestamp":"${timestamp()}","msg_type":"${MSG_TYPE.CLIENT_REQUEST}"}`;
  return dataJson === undefined ? `${head}}` : `${head},"data":${dataJson}}`;
}

/** The payload of a WebSocket PING: a compact `zwsx.rqc` meta, as Zato sends (fits in 125 bytes). */
export function pingPayload(id: string): string {
  return serialize({ meta: meta(MSG_TYPE.CLIENT_REQUEST, id) });
}
