/**
 * Every error code Switchboard sends, and the one status each has: the only place a code is born.
 * docs/protocol.md and docs/admin-api.md document each one; test/error-codes.test.ts fails on any drift.
 */

/** One entry of {@link CODES}. */
export interface CodeEntry {
  /** HTTP-style status: the admin API's, the WSX frames' `meta.status`, the plain channels' `error.status`. */
  readonly status: number;
  /**
   * The status Zato 3.2 puts on the WSX frame for this case, where it is not `status`. Zato clients match on
   * statuses, not on our codes, so a refusal keeps Zato's number (docs/protocol.md, "Error and close codes").
   */
  readonly wsxStatus?: number;
}

/** Code → status. Grouped by status; a code that is only counted or closes a socket still has the status it stands for. */
export const CODES = {
  // 400: the request cannot be read or is not valid.
  bad_request: { status: 400 },
  invalid_json: { status: 400 },
  too_deep: { status: 400 },
  missing_meta: { status: 400 },
  missing_meta_id: { status: 400 },
  invalid_meta: { status: 400 },
  unknown_action: { status: 400 },
  missing_in_reply_to: { status: 400 },
  invalid_input: { status: 400 },
  invalid_body: { status: 400 },
  invalid_data: { status: 400 },
  wsx_client_required: { status: 400 },
  client_released: { status: 400 },
  // 401: who is calling is not known (yet).
  unauthorized: { status: 401 },
  invalid_credentials: { status: 401, wsxStatus: 403 },
  session_required: { status: 401 },
  invalid_token: { status: 401 },
  token_expired: { status: 401 },
  session_timeout: { status: 401 },
  // 403: known, or not, but not allowed.
  forbidden: { status: 403 },
  csrf_failed: { status: 403 },
  origin_not_allowed: { status: 403 },
  service_not_allowed: { status: 403 },
  not_subscription_owner: { status: 403 },
  // 404: nothing by that name.
  not_found: { status: 404 },
  service_not_found: { status: 404 },
  channel_not_found: { status: 404 },
  channel_not_running: { status: 404 },
  client_not_found: { status: 404 },
  outgoing_not_found: { status: 404 },
  security_not_found: { status: 404 },
  topic_not_found: { status: 404 },
  subscription_not_found: { status: 404 },
  tap_not_found: { status: 404 },
  // 408: the caller was too slow.
  request_timeout: { status: 408 },
  frame_timeout: { status: 408 },
  // 409: the request conflicts with what exists or with the target's state.
  channel_exists: { status: 409 },
  outgoing_exists: { status: 409 },
  security_exists: { status: 409 },
  topic_exists: { status: 409 },
  address_in_use: { status: 409 },
  tls_mismatch: { status: 409 },
  security_in_use: { status: 409 },
  secret_unavailable: { status: 409 },
  duplicate_service: { status: 409 },
  topic_inactive: { status: 409 },
  topic_full: { status: 409 },
  not_supported: { status: 409 },
  server_name_taken: { status: 409 },
  // 413 to 431: over a limit of the request itself.
  message_too_large: { status: 413 },
  body_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  host_not_allowed: { status: 421 },
  invalid_utf8: { status: 422 },
  upgrade_required: { status: 426 },
  too_many_requests: { status: 429 },
  too_many_attempts: { status: 429 },
  rate_limited: { status: 429 },
  handshake_rate_limited: { status: 429 },
  rate_limit_exceeded: { status: 429 },
  tap_limit_reached: { status: 429 },
  headers_too_large: { status: 431 },
  // 500: our fault.
  internal_error: { status: 500 },
  invalid_secret_key: { status: 500 },
  secret_key_mismatch: { status: 500 },
  // 502 to 504: a peer, a connection or a limit of ours is in the way.
  invalid_reply: { status: 502 },
  remote_certificate_untrusted: { status: 502 },
  connection_closed: { status: 503 },
  connection_stopped: { status: 503 },
  not_connected: { status: 503 },
  acquire_timeout: { status: 503 },
  send_buffer_full: { status: 503 },
  too_many_pending: { status: 503 },
  too_many_connections: { status: 503 },
  too_many_connections_per_ip: { status: 503 },
  server_overloaded: { status: 503 },
  channel_stopping: { status: 503 },
  client_not_reading: { status: 503 },
  deploy_skipped: { status: 503 },
  store_unavailable: { status: 503 },
  timeout: { status: 504 },
  client_timeout: { status: 504 },
  response_timeout: { status: 504 },
  deploy_timeout: { status: 504 },
} as const satisfies Record<string, CodeEntry>;

/** A code of {@link CODES}. */
export type ErrorCode = keyof typeof CODES;

/** The status of code `C`, as a literal type. */
export type StatusOf<C extends ErrorCode> = (typeof CODES)[C]['status'];

/** The codes whose status is `S`: what a subclass fixed to one status accepts. */
export type CodeWithStatus<S extends number> = { [C in ErrorCode]: StatusOf<C> extends S ? C : never }[ErrorCode];

/** True for a string that is a code of {@link CODES}. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(CODES, code);
}

/** The status of a code; a code from outside the table (a service's own) is 500 unless its error says otherwise. */
export function statusOf(code: string): number {
  return isErrorCode(code) ? CODES[code].status : 500;
}

/** The status a WSX frame carries for `code` with `status`: Zato's where it differs (see {@link CodeEntry.wsxStatus}). */
export function wsxStatusOf(code: string, status: number): number {
  if (!isErrorCode(code)) return status;
  const entry: CodeEntry = CODES[code];
  return entry.wsxStatus ?? status;
}
