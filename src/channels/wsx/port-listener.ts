import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ChannelRuntime } from './channel-runtime.js';
import { statusOf, type ErrorCode } from '../../errors/index.js';
import { rejectUpgrade } from './http-reply.js';
import { loadTlsPair, sameTlsFiles, secureContextOptions, type TlsFiles } from './tls-files.js';
import { TlsReloader } from './tls-watch.js';

/** HTTP limits of a channel port. */
export interface ListenerOptions {
  /** Milliseconds to receive complete request headers (a handshake included); then 408 and the socket is closed. */
  readonly headersTimeoutMs: number;
}

/** Request headers larger than this are answered 431 (a handshake needs well under 4 KiB). */
export const MAX_HEADER_SIZE = 16 * 1024;
/** How often Node checks for requests over their timeouts: the precision of `headersTimeout`. */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** The answer to a request the HTTP parser refused, by Node's error code. */
function clientErrorStatus(err: Error & { code?: string }): { code: ErrorCode; message: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { code: 'request_timeout', message: 'The request headers did not arrive in time' };
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return { code: 'headers_too_large', message: `Request headers are limited to ${MAX_HEADER_SIZE} bytes` };
  return { code: 'bad_request', message: 'Malformed HTTP request' };
}

/**
 * One HTTP server on one host:port, shared by every channel on it; upgrades are routed by exact path.
 * Plain HTTP requests get 426 (Upgrade Required) or 404.
 */
export class PortListener {
  readonly host: string;
  readonly port: number;
  readonly #server: Server | HttpsServer;
  readonly #routes = new Map<string, ChannelRuntime>();
  readonly #logger: Logger;
  #tls: TlsFiles | undefined;
  #reloader: TlsReloader | undefined;

  /** With `tls`, serves wss:// (HTTPS); throws a 400 naming the field when the files cannot be used. */
  constructor(
    host: string,
    port: number,
    logger: Logger,
    options: ListenerOptions = { headersTimeoutMs: 10_000 },
    tls?: TlsFiles,
  ) {
    this.host = host;
    this.port = port;
    this.#logger = logger.child({ listener: `${host}:${port}` });
    this.#tls = tls;
    const headersTimeout = options.headersTimeoutMs;
    // Node checks these timeouts every connectionsCheckingInterval (30 s by default, which let slow headers stay
    // 30 s); a connection that sends nothing at all is covered by headersTimeout too.
    const limits = {
      headersTimeout,
      requestTimeout: headersTimeout + 5000,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
      maxHeaderSize: MAX_HEADER_SIZE,
    };
    const onRequest: RequestListener = (req, res) => {
      const known = this.#routes.has(pathOf(req));
      res.writeHead(statusOf(known ? 'upgrade_required' : 'not_found'), {
        'Content-Type': 'application/json',
        ...(known ? { Upgrade: 'websocket' } : {}),
      });
      res.end(
        JSON.stringify({
          error: known
            ? { code: 'upgrade_required', message: 'Connect with WebSocket' }
            : { code: 'not_found', message: 'Not found' },
        }),
      );
    };
    this.#server = tls ? this.#createTlsServer(tls, limits, headersTimeout, onRequest) : createServer(limits, onRequest);
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    // A slow-header client (slowloris) gets 408, huge headers 431, garbage 400; a reset socket nothing.
    this.#server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const { code, message } = clientErrorStatus(err);
      rejectUpgrade(socket, code, message);
      // A client that does not read the answer does not keep the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  // headersTimeout only starts once TLS is up: a handshake that never completes has its own, equal, deadline.
  #createTlsServer(tls: TlsFiles, limits: object, handshakeTimeout: number, onRequest: RequestListener): HttpsServer {
    const pair = loadTlsPair(tls);
    const server = createHttpsServer({ ...limits, ...secureContextOptions(pair), handshakeTimeout }, onRequest);
    // A plain-HTTP client, a handshake timeout or a refused protocol version: Node destroys the socket after this.
    server.on('tlsClientError', (err: Error & { code?: string }) =>
      this.#logger.debug({ err: err.code ?? err.message }, 'TLS handshake failed'),
    );
    this.#reloader = this.#reloaderFor(server, tls, pair);
    return server;
  }

  #reloaderFor(server: HttpsServer, files: TlsFiles, current: ReturnType<typeof loadTlsPair>): TlsReloader {
    return new TlsReloader({
      files,
      current,
      logger: this.#logger,
      apply: (pair) => server.setSecureContext(secureContextOptions(pair)),
    });
  }

  /** The TLS files served (undefined: plain ws://). */
  get tlsFiles(): TlsFiles | undefined {
    return this.#tls;
  }

  /** True when this listener serves `tls` (both undefined: both plain). */
  serves(tls: TlsFiles | undefined): boolean {
    return sameTlsFiles(this.#tls, tls);
  }

  /**
   * Serves other TLS files from now on (the last channel on the port changed them): connected clients stay, new ones
   * get the new certificate. Throws (a 400 naming the field) when they cannot be used; the old ones are kept then.
   */
  useTlsFiles(tls: TlsFiles): void {
    const server = this.#server;
    if (!this.#tls || !('setSecureContext' in server)) throw new Error('A plain listener cannot switch to TLS');
    const pair = loadTlsPair(tls);
    server.setSecureContext(secureContextOptions(pair));
    this.#reloader?.stop();
    this.#tls = tls;
    this.#reloader = this.#reloaderFor(server, tls, pair);
    this.#reloader.start();
  }

  /** Starts listening; rejects (e.g. EADDRINUSE) when the port cannot be bound. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.port, this.host, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#logger.error({ err }, 'Listener error'));
        this.#reloader?.start();
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

  /** How many channels this listener serves. */
  get routeCount(): number {
    return this.#routes.size;
  }

  route(path: string, channel: ChannelRuntime): void {
    this.#routes.set(path, channel);
  }

  unroute(path: string, channel: ChannelRuntime): void {
    if (this.#routes.get(path) === channel) this.#routes.delete(path);
  }

  /** Stops listening and drops any remaining sockets. */
  close(): Promise<void> {
    this.#reloader?.stop();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // One listener for every socket, not a closure each (it stays on the socket for the connection's life).
  readonly #onSocketError = (err: Error): void => this.#logger.debug({ err: err.message }, 'Socket error during upgrade');

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', this.#onSocketError);
    const channel = this.#routes.get(pathOf(req));
    if (!channel) return rejectUpgrade(socket, 'not_found', 'No channel at this path');
    channel.handleUpgrade(req, socket, head).then(
      () => {
        // Once ws has the socket it has its own error listener; ours would stay for the connection's life.
        if (socket.listenerCount('error') > 1) socket.off('error', this.#onSocketError);
      },
      (err: unknown) => {
        this.#logger.error({ err }, 'Upgrade failed');
        rejectUpgrade(socket, 'internal_error', 'Internal server error');
      },
    );
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
