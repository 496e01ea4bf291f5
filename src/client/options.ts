import type { StateEvents, ReconnectOptions } from './link.js';
import type { Listener } from './emitter.js';
import type { KeepAliveOptions } from './keep-alive.js';
import type { Credentials } from './session.js';
import type { WebSocketConstructor } from './socket.js';

/** The events of a client: its state, and failures that close nothing. */
export type ClientEvents = StateEvents;

/** Listeners to add before the first connection starts (so that its `connecting` and `open` are seen). */
export type InitialListeners<E> = { readonly [K in keyof E]?: Listener<E[K]> };

/** Options of `connect` (a WSX channel, `protocol: zato`; a Zato 3.2 server too). */
export interface ConnectOptions extends ReconnectOptions, Credentials {
  /**
   * Sent as `client_id` in `create-session`: the server lets a client with the same id resume its subscriptions.
   * Default: random, kept by this client across its reconnects.
   */
  readonly clientId?: string | undefined;
  /** Sent as `client_name`; default `switchboard-client`. */
  readonly clientName?: string | undefined;
  /** The WebSocket class; default the platform's (`globalThis.WebSocket`; the Node entry uses `ws`). */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /** Default milliseconds a call waits for its reply (`invoke`, `publish`, …); default 10,000. */
  readonly timeout?: number | undefined;
  /** Most calls waiting for replies at once; default 10,000. */
  readonly maxPending?: number | undefined;
  /**
   * Most calls sent and unanswered on a connection at once (the channel's `maxInFlight`, 100 by default, answers
   * more with 429); the others wait their turn. Default 100.
   */
  readonly maxInFlight?: number | undefined;
  /**
   * With a token provider: milliseconds before the JWT's `exp` at which a fresh token is fetched and sent
   * (`create-session` again on the same connection); default 30,000 (at most half of what is left).
   */
  readonly refreshAhead?: number | undefined;
  /**
   * Calls `zato.ping` through the gateway every `interval` ms and reconnects after `missed` calls in a row got no
   * answer: how a browser notices a connection whose server vanished. Off by default (`true`: 30,000 ms, 2).
   */
  readonly keepAlive?: KeepAliveOptions | boolean | undefined;
  /** Listeners added before the first connection. */
  readonly on?: InitialListeners<ClientEvents> | undefined;
}

/** Options of `publish` (docs/pubsub.md, `publish-message`). */
export interface PublishOptions {
  readonly hasGd?: boolean | undefined;
  /** 1–9, default 5. */
  readonly priority?: number | undefined;
  /** Milliseconds the message lives. */
  readonly expiration?: number | undefined;
  readonly correlId?: string | undefined;
  readonly inReplyTo?: string | undefined;
  readonly mimeType?: string | undefined;
  readonly extClientId?: string | undefined;
  readonly timeout?: number | undefined;
  readonly resend?: boolean | undefined;
}

/** What `onRequest`'s handler is told besides the request's data. */
export interface RequestContext {
  /** The server's `meta.id` of the request. */
  readonly id: string;
}

/** Answers a server's request (`zwsx.rqc`): its return value (or what it resolves with) is the response. */
export type RequestHandler = (data: unknown, context: RequestContext) => unknown;

/** The `publish-message` request for `publish`'s options. */
export function publishRequest(topic: string, data: unknown, options: PublishOptions): Record<string, unknown> {
  const request: Record<string, unknown> = { topic_name: topic, data };
  const fields: Array<[string, unknown]> = [
    ['has_gd', options.hasGd],
    ['priority', options.priority],
    ['expiration', options.expiration],
    ['correl_id', options.correlId],
    ['in_reply_to', options.inReplyTo],
    ['mime_type', options.mimeType],
    ['ext_client_id', options.extClientId],
  ];
  for (const [key, value] of fields) if (value !== undefined) request[key] = value;
  return request;
}
