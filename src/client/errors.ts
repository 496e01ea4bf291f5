import type { WsxResponse } from '../protocol/client.js';

/**
 * The errors the client library rejects with. Each has a stable `code`: the server's own (`meta.code` of its error
 * frame) when the server answered, else one of the codes below, which mean here what they mean in
 * docs/protocol.md. docs/client.md lists them.
 */

/** Codes the client itself raises (the server's codes come as they are). */
export type ClientErrorCode =
  /** The socket closed after a request was written (only for calls made with `resend: false`). */
  | 'connection_closed'
  /** `close()` was called, or the client gave up reconnecting, while the call waited. */
  | 'connection_stopped'
  /** The first connection failed (and `retryFirstConnect` was not set). */
  | 'not_connected'
  /** No reply within the call's timeout. */
  | 'response_timeout'
  /** `maxPending` calls wait already. */
  | 'too_many_pending'
  /** The server's reply could not be read. */
  | 'invalid_reply'
  /** The server refused the credentials (an error with no code from a Zato server says 403). */
  | 'invalid_credentials'
  /** The JWT expired (close 4004) and no token provider can give a fresh one. */
  | 'token_expired'
  /** A plain client's queue of messages waiting for the connection is full. */
  | 'send_buffer_full'
  /** What was to be sent (a request handler's result, a plain message) cannot be written as JSON. */
  | 'invalid_data';

/** Options of a `ClientError`. */
export interface ClientErrorOptions {
  /** The status of the server's error frame (HTTP-style), when the server answered. */
  readonly status?: number | undefined;
  /** The server's correlation id of the failed call (`data.cid`), to find it in the server's log. */
  readonly cid?: string | undefined;
  /** The WebSocket close code, when a close caused the error. */
  readonly closeCode?: number | undefined;
  readonly cause?: unknown;
}

/** Every error of the client library: a stable `code`, and the server's `status` when it answered. */
export class ClientError extends Error {
  /** The stable code: the server's, or a {@link ClientErrorCode}. */
  readonly code: string;
  readonly status: number | undefined;
  readonly cid: string | undefined;
  readonly closeCode: number | undefined;

  constructor(code: string, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.status = options.status;
    this.cid = options.cid;
    this.closeCode = options.closeCode;
  }
}

/** The server answered a call with an error frame (`zwsx.rsperr`): its code, status, message and cid. */
export class ServerError extends ClientError {
  /** The error frame's `data` (Switchboard: `{ cid, code }`). */
  readonly data: unknown;

  constructor(code: string, message: string, options: ClientErrorOptions & { data?: unknown } = {}) {
    super(code, message, options);
    this.name = 'ServerError';
    this.data = options.data;
  }
}

/** The server refused the session (wrong credentials, an expired token): the client does not reconnect. */
export class AuthError extends ClientError {
  constructor(code: string, message: string, options: ClientErrorOptions = {}) {
    super(code, message, options);
    this.name = 'AuthError';
  }
}

/**
 * A code for an error frame without `meta.code` (a Zato 3.2 server sends statuses only): the code Switchboard
 * would have sent for that status, or `error_<status>`.
 */
export function codeOfStatus(status: number): string {
  return STATUS_CODE[status] ?? `error_${status}`;
}

const STATUS_CODE: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'invalid_token',
  403: 'forbidden',
  404: 'service_not_found',
  500: 'internal_error',
  504: 'timeout',
};

/** The error a call rejects with for a reply that is not OK. */
export function replyError(response: WsxResponse): ServerError {
  const code = response.code ?? codeOfStatus(response.status);
  const cid = typeof response.data === 'object' && response.data !== null ? (response.data as { cid?: unknown }).cid : undefined;
  return new ServerError(code, response.errorMessage ?? `The server answered ${response.status} (${code})`, {
    status: response.status,
    cid: typeof cid === 'string' ? cid : undefined,
    data: response.data,
  });
}
