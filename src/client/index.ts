/**
 * `switchboard/client`: the client library of Switchboard's WebSocket channels, for browsers and Node (this is the
 * browser entry, with no Node-only code; `node.ts` is Node's, which uses `ws`). docs/client.md shows how to use it.
 */
import { SwitchboardClient } from './client.js';
import type { ConnectOptions } from './options.js';
import { PlainClient, type PlainOptions } from './plain.js';

/**
 * Connects to a WSX channel (`protocol: zato`) and creates the session; resolves once connected. Rejects with an
 * `AuthError` for refused credentials and with `not_connected` when the first attempt fails (unless
 * `retryFirstConnect`).
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<SwitchboardClient> {
  const client = new SwitchboardClient(url, options);
  await client.ready;
  return client;
}

/** Connects to a plain channel (`protocol: plain`); resolves once connected. */
export async function connectPlain(url: string, options: PlainOptions = {}): Promise<PlainClient> {
  const client = new PlainClient(url, options);
  await client.ready;
  return client;
}

export { SwitchboardClient } from './client.js';
export { PlainClient, type PlainOptions, type PlainMessageHandler } from './plain.js';
export { ClientError, ServerError, AuthError, type ClientErrorCode, type ClientErrorOptions } from './errors.js';
export type { ClientState, StateEvents, ReconnectOptions } from './link.js';
export type { CallOptions } from './calls.js';
export type {
  ConnectOptions,
  ClientEvents,
  PublishOptions,
  RequestHandler,
  RequestContext,
  InitialListeners,
} from './options.js';
export type { Credentials, TokenProvider } from './session.js';
export type { KeepAliveOptions } from './keep-alive.js';
export type { PubSubMessage } from './message.js';
export type { AckMode, SubscribeOptions, Subscription, MessageHandler } from './subscriptions.js';
export type { WebSocketConstructor, WebSocketLike, CloseInfo } from './socket.js';
export type { Listener } from './emitter.js';
export type { BackoffConfig } from '../protocol/client.js';
