import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ConnectionClosedError } from '../../errors/index.js';
import type { OutgoingConfig } from './config.js';

/** Where one socket of an outgoing connection is in its life. */
export type SocketState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

/** Counters a socket adds to (plain numbers, read by the metrics at scrape time). */
export interface SocketStats {
  messagesIn: number;
  messagesOut: number;
  reconnects: number;
  /** Frames from the remote that were ignored as malformed (or sends skipped because the remote does not read). */
  badFrames: number;
}

/** The remote is not connected (yet, or any more). */
export class NotConnectedError extends ConnectionClosedError {
  constructor(name: string, state: SocketState) {
    super('not_connected', `Outgoing connection ${name} is not connected (${state})`);
  }
}

/**
 * What the parts of a remote socket (its Zato session, deliveries and subscriptions) use of the socket: they
 * send on it and report to it, but its lifecycle stays the socket's own.
 */
export interface SocketLink {
  readonly config: OutgoingConfig;
  readonly index: number;
  readonly log: Logger;
  readonly stats: SocketStats;
  /** The socket of the current connection attempt, if any. */
  current(): WebSocket | undefined;
  /** True while `ws` is the current socket and open (a frame for an older socket is not sent on a new one). */
  isCurrent(ws: WebSocket): boolean;
  /** The open socket, if what waits to be written to it is within `maxBufferedBytes`; throws otherwise. */
  writable(): WebSocket;
  /** Sends one of our own frames (acknowledgements, answers), skipped and counted while the remote does not read. */
  sendOwn(ws: WebSocket, frame: string): void;
  /** Counts (and now and then logs) a frame or send left out. */
  ignore(reason: string): void;
  /** Sets the error the admin API shows for this socket. */
  setLastError(text: string): void;
  /** Resolves true once connected (with a session) again, false if stopped or after `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<boolean>;
  /** Runs `fn` after `ms`, unless the socket is stopped first. */
  after(ms: number, fn: () => void): void;
}
