import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ChannelRuntime } from './channel-runtime.js';
import { rejectUpgrade } from './http-reply.js';

/**
 * One HTTP server on one host:port, shared by every channel on it; upgrades are routed by exact path.
 * Plain HTTP requests get 426 (Upgrade Required) or 404.
 */
export class PortListener {
  readonly host: string;
  readonly port: number;
  readonly #server: Server;
  readonly #routes = new Map<string, ChannelRuntime>();
  readonly #logger: Logger;

  constructor(host: string, port: number, logger: Logger) {
    this.host = host;
    this.port = port;
    this.#logger = logger.child({ listener: `${host}:${port}` });
    this.#server = createServer((req, res) => {
      const known = this.#routes.has(pathOf(req));
      res.writeHead(known ? 426 : 404, { 'Content-Type': 'application/json', ...(known ? { Upgrade: 'websocket' } : {}) });
      res.end(JSON.stringify({ error: known ? { code: 'upgrade_required', message: 'Connect with WebSocket' } : { code: 'not_found', message: 'Not found' } }));
    });
    // A slow-header upgrade (slowloris) is answered 408 instead of holding a socket for a minute.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 15_000;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#server.on('clientError', (_err, socket) => {
      if (!socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  }

  /** Starts listening; rejects (e.g. EADDRINUSE) when the port cannot be bound. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.port, this.host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#logger.error({ err }, 'Listener error'));
        resolve();
      });
    });
  }

  /** The port actually bound (differs from `port` when that was 0). */
  get boundPort(): number {
    const addr = this.#server.address();
    return typeof addr === 'object' && addr ? addr.port : this.port;
  }

  get isEmpty(): boolean {
    return this.#routes.size === 0;
  }

  route(path: string, channel: ChannelRuntime): void {
    this.#routes.set(path, channel);
  }

  unroute(path: string, channel: ChannelRuntime): void {
    if (this.#routes.get(path) === channel) this.#routes.delete(path);
  }

  /** Stops listening and drops any remaining sockets. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#logger.debug({ err: err.message }, 'Socket error during upgrade'));
    const channel = this.#routes.get(pathOf(req));
    if (!channel) return rejectUpgrade(socket, 404, 'not_found', 'No channel at this path');
    channel.handleUpgrade(req, socket, head).catch((err: unknown) => {
      this.#logger.error({ err }, 'Upgrade failed');
      rejectUpgrade(socket, 500, 'internal_error', 'Internal server error');
    });
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
