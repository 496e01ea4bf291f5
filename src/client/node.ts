/**
 * The Node entry of `switchboard/client` (what `import … from 'switchboard/client'` loads in Node): the same API
 * as the browser entry, with `ws` as the WebSocket (Node 20 has no global one) and handshake headers, which
 * browsers cannot send.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { MAX_REFUSAL_BODY, parseUpgradeRefusal, type UpgradeRefusal } from '../protocol/client.js';
import { SwitchboardClient } from './client.js';
import type { ConnectOptions } from './options.js';
import { PlainClient, type PlainOptions, type PlainTransport } from './plain.js';
import type { WebSocketConstructor, WebSocketLike } from './socket.js';

export * from './index.js';

/** Node's options of `connect`: also HTTP headers for the WebSocket handshake. */
export interface NodeConnectOptions extends ConnectOptions {
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Node's options of `connectPlain`: handshake headers, and basic auth (`username` + `secret`) for a secured channel. */
export interface NodePlainOptions extends PlainOptions {
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly username?: string | undefined;
  readonly secret?: string | undefined;
}

/**
 * ws with the browser's WebSocket API (onopen, onmessage with event.data, binaryType), which the client uses, and
 * what browsers cannot have: the server's answer to a refused upgrade (`refusal`, its status and error code).
 */
class NodeWebSocket extends WebSocket {
  refusal: UpgradeRefusal | undefined;

  constructor(url: string, headers: Readonly<Record<string, string>> | undefined) {
    super(url, { headers: { ...headers } });
    this.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => this.#refused(req, res));
  }

  // ws leaves a refused handshake to this listener: the body (bounded) is read, then the request is ended with an
  // error, which ws reports as it reports its own refusals (error, then close 1006).
  #refused(req: ClientRequest, res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let bytes = 0;
    const done = (): void => {
      if (this.refusal) return;
      this.refusal = parseUpgradeRefusal(status, Buffer.concat(chunks).toString('utf8'));
      req.destroy(new Error(`Unexpected server response: ${status}`));
    };
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_REFUSAL_BODY) return done();
      chunks.push(chunk);
    });
    res.once('end', done);
    res.once('error', done);
  }
}

function nodeWebSocket(headers: Readonly<Record<string, string>> | undefined): WebSocketConstructor {
  return class extends NodeWebSocket {
    constructor(url: string) {
      super(url, headers);
    }
  } as unknown as WebSocketConstructor;
}

/** Connects to a WSX channel with `ws`; see the browser entry's `connect`. */
export async function connect(url: string, options: NodeConnectOptions = {}): Promise<SwitchboardClient> {
  const client = new SwitchboardClient(url, { ...options, WebSocket: options.WebSocket ?? nodeWebSocket(options.headers) });
  await client.ready;
  return client;
}

/** Connects to a plain channel with `ws`, a token sent as `Authorization: Bearer` (basic auth: `Basic`). */
export async function connectPlain(url: string, options: NodePlainOptions = {}): Promise<PlainClient> {
  const basic =
    options.username === undefined || options.secret === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.username}:${options.secret}`).toString('base64')}`;
  const transport: PlainTransport = (address, token) => {
    const authorization = token === undefined ? basic : `Bearer ${token}`;
    const headers = { ...options.headers, ...(authorization ? { authorization } : {}) };
    return new NodeWebSocket(address, headers) as unknown as WebSocketLike;
  };
  const client = new PlainClient(url, options, options.WebSocket ? undefined : transport);
  await client.ready;
  return client;
}
