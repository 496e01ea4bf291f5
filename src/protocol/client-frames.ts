import { ACTION } from './constants.js';
import { newCid, timestamp } from './ids.js';

/**
 * Building client → server frames: what a WSX client (an outgoing connection today, the client library of a
 * later issue) sends to a Zato-protocol server. Browser-safe: no Node-only imports.
 */

/** Prefixes of the ids a client gives its frames, as Zato's own clients do (`zwsxc.auth.<hex>` …). */
export const CLIENT_ID_PREFIX = {
  SESSION: 'zwsxc.auth.',
  INVOKE: 'zwsxc.inv.',
  RESPONSE: 'zwsxc.rsp.',
} as const;

/** A fresh id for a client frame of the given kind. */
export function clientFrameId(prefix: (typeof CLIENT_ID_PREFIX)[keyof typeof CLIENT_ID_PREFIX]): string {
  return prefix + newCid();
}

/** Who the client is, sent in `create-session`; credentials only when the server asks for them. */
export interface SessionRequest {
  /** A stable id lets a client resume its subscriptions from a new socket. */
  readonly clientId: string;
  readonly clientName: string;
  readonly credentials?: { readonly username: string | undefined; readonly secret: string } | undefined;
}

/** `create-session`: asks for a session token (answered with `zwsx.rspa`). */
export function createSession(id: string, session: SessionRequest): string {
  const meta: Record<string, unknown> = {
    action: ACTION.CREATE_SESSION,
    id,
    timestamp: timestamp(),
    client_id: session.clientId,
    client_name: session.clientName,
  };
  if (session.credentials) Object.assign(meta, { username: session.credentials.username, secret: session.credentials.secret });
  return JSON.stringify({ meta, data: {} });
}

/**
 * `invoke-service`: a request to the server's service; `token` is left out while there is no session.
 * Built by concatenation because it is on every outgoing call's path; the output equals `JSON.stringify` of the
 * frame object (a `data` of undefined is left out, as JSON.stringify does).
 */
export function invokeService(id: string, token: string | undefined, data: unknown): string {
  const tokenField = token === undefined ? '' : `,"token":${JSON.stringify(token)}`;
  const head = `{"meta":{"action":"${ACTION.INVOKE_SERVICE}","id":${JSON.stringify(id)},"timestamp":"${timestamp()}"${tokenField}}`;
  const body = JSON.stringify(data) as string | undefined;
  return body === undefined ? `${head}}` : `${head},"data":${body}}`;
}

/**
 * `client-response`: the answer to a server request (`zwsx.rqc`) or the acknowledgement of a pub/sub delivery
 * (`zwsx.psrq`, with a null response). Throws, as JSON.stringify does, when `response` cannot be JSON.
 */
export function clientResponse(
  inReplyTo: string,
  token: string | undefined,
  response: unknown,
  id: string = clientFrameId(CLIENT_ID_PREFIX.RESPONSE),
): string {
  const meta = { action: ACTION.CLIENT_RESPONSE, id, timestamp: timestamp(), token, in_reply_to: inReplyTo };
  return JSON.stringify({ meta, data: { response: response ?? null } });
}
