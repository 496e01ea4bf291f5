/** Client → server `meta.action` values. */
export const ACTION = {
  CREATE_SESSION: 'create-session',
  INVOKE_SERVICE: 'invoke-service',
  CLIENT_RESPONSE: 'client-response',
} as const;
export type Action = (typeof ACTION)[keyof typeof ACTION];

/** Server → client `meta.msg_type` values (Zato 3.2 names). */
export const MSG_TYPE = {
  AUTH_RESPONSE: 'zwsx.rspa',
  OK_RESPONSE: 'zwsx.rspok',
  ERROR_RESPONSE: 'zwsx.rsperr',
  ERROR_MESSAGE: 'zwsx.merr',
  CLIENT_REQUEST: 'zwsx.rqc',
  PUBSUB_REQUEST: 'zwsx.psrq',
} as const;
export type MsgType = (typeof MSG_TYPE)[keyof typeof MSG_TYPE];

/**
 * How long either side waits for the peer's answer to its close frame before the socket is destroyed (`ws`'s
 * `closeTimeout`, 30 s by default): a peer that never answers the close handshake is cut off after this.
 */
export const CLOSE_TIMEOUT_MS = 2000;

/** WebSocket close codes Switchboard sends (every one of them: a code written anywhere else is a bug). */
export const CLOSE_CODE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INVALID_PAYLOAD: 1007,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  INVALID_UTF8: 4001,
  PINGS_MISSED: 4002,
  PING_ERROR: 4003,
  /** The JWT that authenticated the session expired and no fresh one came (see docs/security.md, "JWT"). */
  CREDENTIALS_EXPIRED: 4004,
  OPERATOR: 4005,
  /** A non-GD pub/sub subscriber that fell too far behind. */
  SLOW_CONSUMER: 4010,
} as const;

/**
 * Longest accepted `meta` field values, in characters. Zato clients send 32-hex ids (`zwsxc.auth.<hex>`),
 * 38-character tokens and short client ids and names; a longer value is refused with `invalid_meta` so that no
 * connection can pin large strings for its lifetime. `secret` allows a JWT.
 */
export const MAX_META_LENGTH = {
  id: 256,
  in_reply_to: 256,
  token: 256,
  timestamp: 64,
  client_id: 256,
  client_name: 256,
  username: 256,
  secret: 4096,
} as const;

/** Prefix of session tokens, as in Zato 3.2. */
export const TOKEN_PREFIX = 'zwsxt.';
