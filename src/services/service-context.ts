import type { WsxResponse } from '../protocol/index.js';

// What a running service sees of the rest of the server: `this.wsx`, `this.out` and `this.pubsub`. They are
// interfaces here so that `services/` does not depend on `channels/`, `outgoing/` or `pubsub/`; the server passes
// the implementations to `ServiceInvoker`'s constructor as a `ServiceEnvironment`.

/** Where a service call came from. */
export interface ChannelInfo {
  /** `wsx` for a WebSocket channel, `admin` for the admin API, `hook` for outgoing hooks, `internal` otherwise. */
  readonly type: 'wsx' | 'admin' | 'hook' | 'internal';
  readonly name: string;
  /** For a WSX channel mounting the gateway: the services its clients may name (beyond the defaults). */
  readonly gatewayServices?: readonly string[];
}

/** A connected WebSocket client, as the admin API and services see it. */
export interface WsxClientInfo {
  readonly pubClientId: string;
  readonly channelName: string;
  readonly extClientId: string | undefined;
  readonly extClientName: string | undefined;
  readonly peerAddress: string;
  readonly connectedAt: string;
  readonly lastSeen: string;
  readonly protocol: 'zato' | 'plain';
  readonly hasSession: boolean;
}

/** Options of a server → client request. */
export interface ClientInvokeOptions {
  /** Milliseconds to wait for the client's response (default 5000). */
  readonly timeout?: number;
}

/** One channel's connected clients, reachable from any service. */
export interface WsxChannelHandle {
  /** The clients connected now. */
  clients(): WsxClientInfo[];
  /** Sends `data` to every client with a session (plain channels: every client); resolves with how many. */
  broadcast(data: unknown): Promise<number>;
  /** Sends a `zwsx.rqc` request to one client and resolves with its `client-response` payload. */
  invoke(pubClientId: string, data: unknown, options?: ClientInvokeOptions): Promise<unknown>;
  /** Sends one message to one client (no response expected). */
  send(pubClientId: string, data: unknown): Promise<void>;
  /** Closes one client's connection (default code 4005). */
  disconnect(pubClientId: string, code?: number, reason?: string): Promise<void>;
}

/** Access to every WSX channel's clients. */
export interface WsxChannels {
  channel(name: string): WsxChannelHandle;
}

/** `this.wsx` inside a service: the calling client (when called from a WSX channel) and every channel. */
export interface WsxFacade {
  readonly pubClientId: string | undefined;
  readonly extClientId: string | undefined;
  readonly extClientName: string | undefined;
  readonly peerAddress: string | undefined;
  /** The calling client's verified JWT claims (read-only), or undefined when its channel's security is not `jwt`. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** Sends a message to the calling client. */
  send(data: unknown): Promise<void>;
  /** Sends a request to the calling client and resolves with its response. */
  invoke(data: unknown, options?: ClientInvokeOptions): Promise<unknown>;
  /** Any channel's clients, by channel name. */
  channel(name: string): WsxChannelHandle;
}

/** A client leased from an outgoing connection's pool (`await using client = await conn.client()`). */
export interface OutgoingWsxClient extends AsyncDisposable {
  /** Plain remote: writes `msg` (objects as JSON), resolves once written. Zato remote: `invoke`. */
  send(msg: unknown): Promise<WsxResponse | undefined>;
  /** Zato remote: sends `invoke-service` and resolves with the reply (`response.data`). */
  invoke(msg: unknown): Promise<WsxResponse | undefined>;
  /** Returns the client to the pool. */
  release(): void;
}

/** One outgoing connection as a service sees it. */
export interface OutgoingWsxHandle {
  readonly config: { readonly name: string; readonly address: string; readonly isZato: boolean };
  readonly conn: { client(): Promise<OutgoingWsxClient> };
}

/** `this.out.wsx`: outgoing WebSocket connections by name. */
export interface OutgoingWsx {
  get(name: string): OutgoingWsxHandle;
}

/** `this.out`: outgoing connections. */
export interface OutgoingConnections {
  readonly wsx: OutgoingWsx;
}

/** Options of `this.pubsub.publish` (Zato's publish-message fields, camel-cased). */
export interface PublishOptions {
  readonly hasGd?: boolean;
  /** 1–9, default 5. */
  readonly priority?: number;
  /** Milliseconds until the message expires. */
  readonly expiration?: number;
  readonly correlId?: string;
  readonly inReplyTo?: string;
  readonly mimeType?: string;
  readonly extClientId?: string;
}

/** `this.pubsub`: publishing from services. */
export interface PubSubFacade {
  /** Publishes `data` to a topic; resolves with the `msg_id` once it is safe (GD: committed). */
  publish(topicName: string, data: unknown, options?: PublishOptions): Promise<string>;
}

/** What the server provides to services, complete before the first call (given to `ServiceInvoker`'s constructor). */
export interface ServiceEnvironment {
  readonly wsx: WsxChannels;
  readonly outgoingWsx: OutgoingWsx;
  readonly pubsub: PubSubFacade;
}
