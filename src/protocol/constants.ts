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

/** WebSocket close codes Switchboard sends. */
export const CLOSE_CODE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INVALID_PAYLOAD: 1007,
  POLICY: 1008,
  TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  INVALID_UTF8: 4001,
  PINGS_MISSED: 4002,
  PING_ERROR: 4003,
  OPERATOR: 4005,
} as const;

/** Prefix of session tokens, as in Zato 3.2. */
export const TOKEN_PREFIX = 'zwsxt.';

/** Control frame payloads are limited to 125 bytes by RFC 6455. */
export const MAX_PING_PAYLOAD = 125;
