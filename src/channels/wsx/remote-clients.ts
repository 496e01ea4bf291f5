import type { WsxClientInfo } from '../../services/index.js';

/** A client as the admin API lists it: with the name of the server that holds its socket. */
export interface ServerClientInfo extends WsxClientInfo {
  readonly server: string;
}

/**
 * The clients of the other servers of a cluster (cluster-notes §3.6), as the channels need them; the cluster part
 * implements it over PostgreSQL and the server wiring plugs it in. Without it (SQLite) a channel knows only its own.
 */
export interface RemoteClients {
  /** A client got its session (plain: connected): it becomes visible to the other servers. */
  record(client: WsxClientInfo): void;
  /** A client with a session closed. */
  forget(pubClientId: string): void;
  /** The channel's clients on every other live server. */
  list(channelName: string): Promise<ServerClientInfo[]>;
  /** Invokes a client of another server; `client_not_found` when no live server has it, `client_timeout`. */
  invoke(channelName: string, pubClientId: string, data: unknown, timeoutMs: number): Promise<unknown>;
  /** Sends to a client of another server. */
  send(channelName: string, pubClientId: string, data: unknown): Promise<void>;
  /** Closes a client of another server. */
  disconnect(channelName: string, pubClientId: string, code: number, reason: string): Promise<void>;
  /** Has every other server push `data` to its own clients of the channel (fire-and-forget). */
  broadcast(channelName: string, data: unknown): Promise<void>;
}
