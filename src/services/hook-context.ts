/** Constants hook services compare against, named as in Zato's `zato.common.WEB_SOCKET`. */
export const WEB_SOCKET = {
  OUT_MSG_TYPE: {
    CONNECT: 'connect',
    MESSAGE: 'message',
    CLOSE: 'close',
  },
  HOOK_TYPE: {
    ON_CONNECTED: 'wsx_on_connected',
    ON_DISCONNECTED: 'wsx_on_disconnected',
  },
} as const;

/** The `ctx` an outgoing connection's hook service receives. */
export interface WsxHookCtx {
  readonly type: (typeof WEB_SOCKET.OUT_MSG_TYPE)[keyof typeof WEB_SOCKET.OUT_MSG_TYPE];
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly conn?: unknown;
  readonly config?: unknown;
}
