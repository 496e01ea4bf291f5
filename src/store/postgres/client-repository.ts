import { sql } from 'kysely';
import type { Store } from '../store.js';

/** A connected client as the cluster-wide registry stores it (cluster-notes §3.2 `wsx_client`). */
export interface ClientRow {
  readonly pubClientId: string;
  readonly channelName: string;
  readonly extClientId: string | undefined;
  readonly extClientName: string | undefined;
  readonly peerAddress: string;
  readonly protocol: 'zato' | 'plain';
  readonly connectedAt: Date;
}

/** A registered client of a live server, with that server. */
export interface ServerClientRow extends ClientRow {
  readonly serverId: string;
  readonly serverName: string;
  /** The server's last heartbeat: when the client was last known connected. */
  readonly heartbeatAt: Date;
}

interface SelectedRow {
  pubClientId: string;
  channelName: string;
  extClientId: string | null;
  extClientName: string | null;
  peerAddress: string;
  protocol: 'zato' | 'plain';
  connectedAt: Date;
  serverId: string;
  serverName: string;
  heartbeatAt: Date;
}

/** The SQL of the client registry and of NOTIFY payloads too big for a notification (PostgreSQL only). */
export class ClientRepository {
  readonly #store: Store;

  constructor(store: Store) {
    if (store.dialect !== 'postgres') throw new Error('The client registry needs a PostgreSQL store');
    this.#store = store;
  }

  get #db() {
    return this.#store.db;
  }

  /** Writes one batch of the registry in one transaction: rows of `serverId` added, rows removed. */
  async write(serverId: string, added: readonly ClientRow[], removed: readonly string[]): Promise<void> {
    if (!added.length && !removed.length) return;
    await this.#db.transaction().execute(async (trx) => {
      if (removed.length) await trx.deleteFrom('wsx_client').where('pub_client_id', 'in', removed).execute();
      if (!added.length) return;
      await trx
        .insertInto('wsx_client')
        .values(
          added.map((c) => ({
            pub_client_id: c.pubClientId,
            channel_name: c.channelName,
            server_id: serverId,
            ext_client_id: c.extClientId ?? null,
            ext_client_name: c.extClientName ?? null,
            peer_address: c.peerAddress,
            protocol: c.protocol,
            connected_at: c.connectedAt,
          })),
        )
        .onConflict((oc) => oc.column('pub_client_id').doNothing())
        .execute();
    });
  }

  /** The clients of `channelName` on servers other than `exceptServerId` whose heartbeat is younger than `expiryMs`. */
  async list(channelName: string, exceptServerId: string, expiryMs: number): Promise<ServerClientRow[]> {
    const { rows } = await sql<SelectedRow>`${this.#selectLive(expiryMs)}
      where c.channel_name = ${channelName} and c.server_id <> ${exceptServerId}
      order by s.name, c.connected_at, c.pub_client_id`.execute(this.#db);
    return rows.map(toRow);
  }

  /** One client of `channelName` on a live server, or undefined. */
  async locate(channelName: string, pubClientId: string, expiryMs: number): Promise<ServerClientRow | undefined> {
    const { rows } = await sql<SelectedRow>`${this.#selectLive(expiryMs)}
      where c.channel_name = ${channelName} and c.pub_client_id = ${pubClientId}`.execute(this.#db);
    return rows[0] && toRow(rows[0]);
  }

  #selectLive(expiryMs: number) {
    return sql`select c.pub_client_id as "pubClientId", c.channel_name as "channelName",
        c.ext_client_id as "extClientId", c.ext_client_name as "extClientName", c.peer_address as "peerAddress",
        c.protocol, c.connected_at as "connectedAt", c.server_id as "serverId", s.name as "serverName",
        s.heartbeat_at as "heartbeatAt"
      from wsx_client c join cluster_server s on s.server_id = c.server_id
        and s.heartbeat_at > now() - make_interval(secs => ${expiryMs / 1000})`;
  }

  /** Stores a payload too big for a NOTIFY; resolves with its id. */
  async putBlob(data: string): Promise<string> {
    const row = await this.#db.insertInto('cluster_blob').values({ data }).returning('id').executeTakeFirstOrThrow();
    return String(row.id);
  }

  /** Reads and deletes a payload meant for one receiver; undefined when it is gone. */
  async takeBlob(id: string): Promise<string | undefined> {
    const row = await this.#db
      .deleteFrom('cluster_blob')
      .where('id', '=', id as never)
      .returning('data')
      .executeTakeFirst();
    return row?.data;
  }

  /** Reads a payload every server reads (a broadcast); the housekeeper trims it. */
  async readBlob(id: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('cluster_blob')
      .select('data')
      .where('id', '=', id as never)
      .executeTakeFirst();
    return row?.data;
  }

  /** Deletes payloads older than `ageMs`; resolves with how many. */
  async trimBlobs(ageMs: number): Promise<number> {
    const result = await sql`delete from cluster_blob
      where created_at < now() - make_interval(secs => ${ageMs / 1000})`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0);
  }
}

function toRow(r: SelectedRow): ServerClientRow {
  return {
    ...r,
    extClientId: r.extClientId ?? undefined,
    extClientName: r.extClientName ?? undefined,
  };
}
