import type { Logger } from 'pino';
import { WEB_SOCKET, type ServiceInvoker, type WsxHookCtx } from '../../services/index.js';
import type { OutgoingConfig } from './config.js';
import { OutgoingLease } from './connection.js';
import type { RemoteSocket, SocketEvents } from './remote-socket.js';

/**
 * Turns a connection's socket events into calls of its hook services, each with input `{ ctx }`.
 * A hook that fails is logged and never breaks the connection; a failed MESSAGE hook also rejects, so that a
 * pub/sub delivery it could not take is left unacknowledged and comes again.
 */
export function hookEvents(config: OutgoingConfig, invoker: ServiceInvoker, logger: Logger): SocketEvents {
  const log = logger.child({ outgoing: config.name });
  const call = async (service: string | null, ctx: WsxHookCtx, rethrow = false): Promise<unknown> => {
    if (!service) return undefined;
    try {
      return await invoker.invoke(service, { ctx }, { channel: { type: 'hook', name: config.name } });
    } catch (err) {
      log.warn({ err, service, hook: ctx.type }, 'Hook service failed');
      if (rethrow) throw err;
      return undefined;
    }
  };
  const conn = (socket: RemoteSocket) => new OutgoingLease(socket, config.isZato, config.name);
  return {
    connected(socket) {
      void call(config.onConnectService, { type: WEB_SOCKET.OUT_MSG_TYPE.CONNECT, conn: conn(socket), config });
    },
    message(socket, data) {
      return call(config.onMessageService, { type: WEB_SOCKET.OUT_MSG_TYPE.MESSAGE, data, conn: conn(socket), config }, true);
    },
    closed(socket, code, reason) {
      void call(config.onCloseService, { type: WEB_SOCKET.OUT_MSG_TYPE.CLOSE, code, reason, conn: conn(socket), config });
    },
  };
}
