/**
 * The Node entry of `switchboard/client` (what `import … from 'switchboard/client'` loads in Node): the same API
 * as the browser entry, with `ws` as the WebSocket (Node 20 has no global one) and handshake headers, which
 * browsers cannot send.
 */
import { WebSocket } from 'ws';
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

// ws implements the browser's WebSocket API (onopen, onmessage with event.data, binaryType) that the client uses.
function nodeWebSocket(headers: Readonly<Record<string, string>> | undefined): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { headers: { ...headers } });
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
    return new WebSocket(address, { headers }) as unknown as WebSocketLike;
  };
  const client = new PlainClient(url, options, options.WebSocket ? undefined : transport);
  await client.ready;
  return client;
}
