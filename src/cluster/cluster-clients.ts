import type { Logger } from 'pino';
import { ClientRepository, type ClusterRepository, type ServerClientRow, type Store } from '../store/index.js';
import { ClientRegistry, type ClientInfo } from './client-registry.js';
import { channelName } from './listener.js';
import { NotifyPayloads } from './notify-payloads.js';
import { RemoteCalls, type LocalClients } from './remote-calls.js';
import { parseBroadcast, parseDirect, parseGone, serverSuffix } from './rpc-messages.js';

/** A client of another server as the admin API lists it (its `lastSeen` is its server's last heartbeat). */
export interface ClusterClientInfo extends ClientInfo {
  readonly lastSeen: string;
  readonly hasSession: boolean;
  readonly server: string;
}

/** What the clients of a cluster need. */
export interface ClusterClientsOptions {
  readonly store: Store;
  readonly repository: ClusterRepository;
  readonly schema: string;
  readonly serverId: string;
  readonly expiryMs: number;
  readonly local: LocalClients;
  readonly logger: Logger;
}

/** Broadcast blobs are read by every server, so none deletes them: the housekeeper does, this much later. */
const BROADCAST_BLOB_TTL_MS = 60_000;

/**
 * Clients on any server (cluster-notes §3.6): this server's clients recorded in `wsx_client`, the other servers'
 * listed from it, and calls and broadcasts to them over NOTIFY. It owns three channels of the listener: this
 * server's own, the broadcast and the reaped-servers notice.
 */
export class ClusterClients {
  readonly channels: readonly string[];
  readonly #o: ClusterClientsOptions;
  readonly #registry: ClientRegistry;
  readonly #repo: ClientRepository;
  readonly #payloads: NotifyPayloads;
  readonly #calls: RemoteCalls;
  readonly #own: string;
  readonly #broadcast: string;
  readonly #members: string;
  readonly #log: Logger;

  constructor(options: ClusterClientsOptions) {
    this.#o = options;
    this.#log = options.logger;
    const { schema, serverId } = options;
    this.#own = channelName(schema, serverSuffix(serverId));
    this.#broadcast = channelName(schema, 'bcast');
    this.#members = channelName(schema, 'members');
    this.channels = [this.#own, this.#broadcast, this.#members];
    this.#repo = new ClientRepository(options.store);
    this.#registry = new ClientRegistry({ repository: this.#repo, serverId, expiryMs: options.expiryMs, logger: this.#log });
    this.#payloads = new NotifyPayloads(this.#repo, options.repository);
    this.#calls = new RemoteCalls({
      serverId,
      channelOf: (id) => channelName(schema, serverSuffix(id)),
      registry: this.#registry,
      payloads: this.#payloads,
      local: options.local,
      logger: this.#log,
    });
  }

  /** Starts writing this server's clients (its `cluster_server` row exists now). */
  open(): void {
    this.#registry.open();
  }

  record(client: ClientInfo): void {
    this.#registry.record(client);
  }

  forget(pubClientId: string): void {
    this.#registry.forget(pubClientId);
  }

  async list(channel: string): Promise<ClusterClientInfo[]> {
    return (await this.#registry.list(channel)).map(toInfo);
  }

  invoke(channel: string, pubClientId: string, data: unknown, timeoutMs: number): Promise<unknown> {
    return this.#calls.call('invoke', channel, pubClientId, { data, timeoutMs });
  }

  async send(channel: string, pubClientId: string, data: unknown): Promise<void> {
    await this.#calls.call('send', channel, pubClientId, { data, timeoutMs: 5000 });
  }

  async disconnect(channel: string, pubClientId: string, code: number, reason: string): Promise<void> {
    await this.#calls.call('disconnect', channel, pubClientId, { timeoutMs: 5000, code, reason });
  }

  /** One notification every other server applies to its own clients of the channel. */
  broadcast(channel: string, data: unknown): Promise<void> {
    return this.#payloads.send(this.#broadcast, { origin: this.#o.serverId, channel }, data);
  }

  /** The housekeeper's part: tells every server which servers it reaped. */
  async reaped(serverIds: readonly string[]): Promise<void> {
    await this.#o.repository.notify(this.#members, JSON.stringify({ gone: serverIds }));
  }

  /** The housekeeper's chore: broadcast payloads every server has read by now. */
  async trim(): Promise<void> {
    await this.#repo.trimBlobs(BROADCAST_BLOB_TTL_MS);
  }

  /** Handles a notification on one of {@link channels}; false for another channel. Never throws. */
  notification(channel: string, payload: string): boolean {
    if (channel === this.#own) this.#direct(payload);
    else if (channel === this.#broadcast) this.#run(this.#applyBroadcast(payload), 'A broadcast from another server failed');
    else if (channel === this.#members) this.#gone(payload);
    else return false;
    return true;
  }

  async close(): Promise<void> {
    this.#calls.close();
    await this.#registry.close();
  }

  #direct(payload: string): void {
    const message = parseDirect(payload);
    if (!message) return this.#log.warn({ bytes: payload.length }, 'Ignoring a malformed cluster call');
    if (message.t === 'reply') this.#run(this.#calls.replied(message), 'Handling a reply from another server failed');
    else this.#run(this.#calls.serve(message), 'Serving a call from another server failed');
  }

  async #applyBroadcast(payload: string): Promise<void> {
    const notice = parseBroadcast(payload);
    if (!notice) return this.#log.warn({ bytes: payload.length }, 'Ignoring a malformed cluster broadcast');
    if (notice.origin === this.#o.serverId) return;
    const data = await this.#payloads.data(notice, false);
    await this.#o.local.broadcast(notice.channel, data);
  }

  #gone(payload: string): void {
    const notice = parseGone(payload);
    if (notice) this.#calls.gone(notice.gone);
  }

  #run(task: Promise<void>, message: string): void {
    task.catch((err: unknown) => this.#log.warn({ err }, message));
  }
}

function toInfo(row: ServerClientRow): ClusterClientInfo {
  return {
    pubClientId: row.pubClientId,
    channelName: row.channelName,
    extClientId: row.extClientId,
    extClientName: row.extClientName,
    peerAddress: row.peerAddress,
    connectedAt: row.connectedAt.toISOString(),
    lastSeen: row.heartbeatAt.toISOString(),
    protocol: row.protocol,
    hasSession: true,
    server: row.serverName,
  };
}
