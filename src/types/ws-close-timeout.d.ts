// ws 8.23 takes `closeTimeout` (how long to wait for the peer's answer to a close frame) on servers and clients;
// @types/ws 8.18 does not declare it yet. Remove this file once it does.
import type { IncomingMessage } from 'node:http';

declare module 'ws' {
  namespace WebSocket {
    interface ClientOptions {
      closeTimeout?: number | undefined;
    }
    interface ServerOptions<
      U extends typeof WebSocket.WebSocket = typeof WebSocket.WebSocket,
      V extends typeof IncomingMessage = typeof IncomingMessage,
    > {
      closeTimeout?: number | undefined;
    }
  }
}
