import type { Logger } from 'pino';
import type { ServiceInvoker, ChannelInfo } from '../../services/index.js';
import type { SecurityDefinitions } from '../../security/index.js';
import type { ChannelConfig } from './config.js';
import type { ChannelConnection } from './connection.js';
import type { TapPoint } from './tap-registry.js';

export type { ClientAuth } from './handshake-auth.js';

/** A connection the server pushes frames to (pub/sub deliveries), with its backlog for flow control. */
export interface PushTarget {
  readonly pubClientId: string;
  readonly isOpen: boolean;
  /** Bytes written but not yet on the wire. */
  readonly queuedBytes: number;
  /** The largest frame the channel takes (`maxMessageSize`); pub/sub never pushes a bigger one. */
  readonly maxMessageSize: number;
  /** The security definition that authenticated this client (the channel's), or null on an open channel. */
  readonly securityName: string | null;
  /** Writes one text frame (given as text or as its UTF-8 bytes); false when the connection is closed. */
  push(frame: string | Buffer): boolean;
  /** Calls `callback` once the backlog has drained. */
  onDrain(callback: () => void): void;
  close(code: number, reason: string): void;
}

/** What a client needs from the channel that accepted it. */
export interface ConnectionHost {
  readonly config: ChannelConfig;
  readonly channelInfo: ChannelInfo;
  readonly invoker: ServiceInvoker;
  readonly security: SecurityDefinitions;
  readonly logger: Logger;
  /** The client is fully connected (zato: has a session; plain: open). */
  clientReady(client: ChannelConnection): void;
  /** The client's connection is gone. */
  clientClosed(client: ChannelConnection): void;
  /** A `client-response` that answers no pending request of ours (e.g. a pub/sub acknowledgement). */
  unclaimedResponse(client: ChannelConnection, inReplyTo: string, response: unknown): void;
  /** Message totals of the channel (for metrics). */
  readonly stats: MessageStats;
  /** Counts an error answered at the protocol level, by its stable code (for metrics). */
  protocolError(code: string): void;
  /** The taps on the channel: a connection hands them its frames while `taps.active`. */
  readonly taps: TapPoint;
}

/** Messages a channel or connection received and sent (plain counters, read by the metrics at scrape time). */
export interface MessageStats {
  messagesIn: number;
  messagesOut: number;
}
