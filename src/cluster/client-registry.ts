import type { Logger } from 'pino';
import type { ClientRepository, ClientRow, ServerClientRow } from '../store/index.js';

/** A connected client as the channels describe it (the fields the registry keeps). */
export interface ClientInfo {
  readonly pubClientId: string;
  readonly channelName: string;
  readonly extClientId: string | undefined;
  readonly extClientName: string | undefined;
  readonly peerAddress: string;
  readonly protocol: 'zato' | 'plain';
  readonly connectedAt: string;
}

/** How the registry of one server writes. */
export interface ClientRegistryOptions {
  readonly repository: ClientRepository;
  readonly serverId: string;
  /** A server whose heartbeat is older than this is not listed, and its clients are not found. */
  readonly expiryMs: number;
  /** Changes gathered this long go in one transaction (a reconnect storm is not one commit per client). */
  readonly batchMs?: number;
  readonly logger: Logger;
}

const RETRY_MS = 1000;

/**
 * This server's rows of `wsx_client`, written behind: what is recorded and forgotten within `batchMs` is one
 * transaction, and a client that comes and goes within it is never written. Writes wait for `open()` (the
 * server's row must exist first); a failed batch is kept and tried again, newer changes of a client winning.
 */
export class ClientRegistry {
  readonly #o: Required<ClientRegistryOptions>;
  // A row to insert, or null to delete; only what no transaction has taken yet.
  #pending = new Map<string, ClientRow | null>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #open = false;
  #closed = false;
  #failing = false;

  constructor(options: ClientRegistryOptions) {
    this.#o = { batchMs: 10, ...options };
  }

  /** A client got its session here. */
  record(client: ClientInfo): void {
    if (this.#closed) return;
    this.#pending.set(client.pubClientId, {
      pubClientId: client.pubClientId,
      channelName: client.channelName,
      extClientId: client.extClientId,
      extClientName: client.extClientName,
      peerAddress: client.peerAddress,
      protocol: client.protocol,
      connectedAt: new Date(client.connectedAt),
    });
    this.#schedule(this.#o.batchMs);
  }

  /** A client with a session left. */
  forget(pubClientId: string): void {
    if (this.#closed) return;
    // Recorded but not written yet: nothing to undo in the database.
    if (this.#pending.get(pubClientId)) this.#pending.delete(pubClientId);
    else this.#pending.set(pubClientId, null);
    this.#schedule(this.#o.batchMs);
  }

  /** Starts writing (this server's row exists now). */
  open(): void {
    this.#open = true;
    this.#schedule(0);
  }

  /** Stops writing; what is pending is dropped (the server's row goes, and its clients with it). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#flushing;
    this.#pending.clear();
  }

  /** The channel's clients on the other live servers. */
  list(channelName: string): Promise<ServerClientRow[]> {
    return this.#o.repository.list(channelName, this.#o.serverId, this.#o.expiryMs);
  }

  /** Where a client of the channel is connected, on a live server; undefined when none has it. */
  locate(channelName: string, pubClientId: string): Promise<ServerClientRow | undefined> {
    return this.#o.repository.locate(channelName, pubClientId, this.#o.expiryMs);
  }

  #schedule(ms: number): void {
    if (!this.#open || this.#closed || this.#timer || this.#flushing || !this.#pending.size) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        this.#schedule(this.#failing ? RETRY_MS : this.#o.batchMs);
      });
    }, ms);
    this.#timer.unref();
  }

  // Never throws: a batch that fails goes back in front of what came meanwhile.
  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    const added: ClientRow[] = [];
    const removed: string[] = [];
    for (const [id, row] of batch) {
      if (row) added.push(row);
      else removed.push(id);
    }
    try {
      await this.#o.repository.write(this.#o.serverId, added, removed);
      if (this.#failing) this.#o.logger.info('Writing the client registry works again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#o.logger.error({ err }, 'Writing the client registry failed; retrying every second');
      this.#failing = true;
      for (const [id, row] of batch) if (!this.#pending.has(id)) this.#pending.set(id, row);
    }
  }
}
