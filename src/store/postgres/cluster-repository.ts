import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { ConfigChangeTable } from '../schema.js';
import type { Store } from '../store.js';

/** A server registering itself (cluster-notes §3.4). */
export interface NewMember {
  readonly serverId: string;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  /** The backend pid of the session connection holding the server's advisory locks. */
  readonly sessionPid: number;
}

/** A `cluster_server` row as the cluster view needs it. */
export interface MemberRow {
  readonly serverId: string;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly startedAt: Date;
  /** By the database's clock. */
  readonly heartbeatAgeMs: number;
  readonly clients: number;
  /** Its session connection holds the housekeeping lock right now (read from pg_locks, not a stored flag). */
  readonly housekeeping: boolean;
}

/** One committed config write, in commit order. */
export interface ChangeRecord {
  readonly id: number;
  readonly kind: string;
  readonly name: string;
  readonly newName: string | null;
  readonly op: ConfigChangeTable['op'];
}

/** A stored config object's raw body. */
export interface StoredConfig {
  readonly kind: string;
  readonly name: string;
  readonly body: string;
}

/** An advisory lock key in PostgreSQL's two-int4 form (pg_locks shows them as classid, objid, objsubid 2). */
export type LockKey = readonly [number, number];

// The first half of every Switchboard lock key ('SB' 0x5342 in the high bytes), so ours never meet another
// application's advisory locks in a shared database.
const LOCK_SPACE = 0x53420000;

/** The advisory lock of `purpose` in the cluster whose tables are in `schema`: clusters in other schemas get others. */
export function lockKey(schema: string, purpose: string): LockKey {
  return [LOCK_SPACE, createHash('sha256').update(`${schema}:${purpose}`).digest().readUInt32BE(0) & 0x7fffffff];
}

/** The SQL of membership and of the config outbox (PostgreSQL only; the logic is in src/cluster/). */
export class ClusterRepository {
  readonly #store: Store;

  constructor(store: Store) {
    if (store.dialect !== 'postgres') throw new Error('The cluster needs a PostgreSQL store');
    this.#store = store;
  }

  get #db() {
    return this.#store.db;
  }

  /** Replaces any earlier incarnation of the same name (the caller holds the name lock, so that one is dead). */
  async register(member: NewMember): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('cluster_server').where('name', '=', member.name).execute();
      await trx
        .insertInto('cluster_server')
        .values({
          server_id: member.serverId,
          name: member.name,
          host: member.host,
          pid: member.pid,
          version: member.version,
          internal_url: null,
          session_pid: member.sessionPid,
        })
        .execute();
    });
  }

  /** Records a heartbeat; false when the row is gone (the server was reaped: it is fenced). */
  async heartbeat(serverId: string, clients: number, sessionPid: number | null): Promise<boolean> {
    const result = await sql`update cluster_server set heartbeat_at = now(), clients = ${clients},
      session_pid = coalesce(${sessionPid}::integer, session_pid) where server_id = ${serverId}`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** Removes this server's row (a clean stop). */
  async deregister(serverId: string): Promise<void> {
    await this.#db.deleteFrom('cluster_server').where('server_id', '=', serverId).execute();
  }

  /** Deletes the servers whose last heartbeat is older than `expiryMs` (database time); resolves with them, by name. */
  async reapExpired(expiryMs: number): Promise<Array<{ serverId: string; name: string }>> {
    const { rows } = await sql<{ serverId: string; name: string }>`delete from cluster_server
      where heartbeat_at < now() - make_interval(secs => ${expiryMs / 1000}) returning server_id as "serverId", name`.execute(
      this.#db,
    );
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every registered server, by name, with which one holds the housekeeping lock `housekeeping`. */
  async members(housekeeping: LockKey): Promise<MemberRow[]> {
    const { rows } = await sql<MemberRow>`
      select s.server_id as "serverId", s.name, s.host, s.pid, s.version, s.started_at as "startedAt", s.clients,
             (extract(epoch from (now() - s.heartbeat_at)) * 1000)::float8 as "heartbeatAgeMs",
             exists (select 1 from pg_catalog.pg_locks l
                      where l.locktype = 'advisory' and l.granted and l.pid = s.session_pid and l.objsubid = 2
                        and l.classid = ${housekeeping[0]}::bigint::oid and l.objid = ${housekeeping[1]}::bigint::oid)
               as "housekeeping"
        from cluster_server s order by s.name`.execute(this.#db);
    return rows.map((r) => ({ ...r, heartbeatAgeMs: Math.max(0, Math.round(r.heartbeatAgeMs)) }));
  }

  /** The id of the latest committed config change (0 when there is none): where a starting server's cursor begins. */
  async latestChangeId(): Promise<number> {
    const row = await this.#db
      .selectFrom('config_change')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** The oldest change still kept, or undefined when the table is empty. */
  async oldestChangeId(): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('config_change')
      .select((eb) => eb.fn.min('id').as('id'))
      .executeTakeFirst();
    return row?.id === null || row?.id === undefined ? undefined : Number(row.id);
  }

  /** Changes after `cursor`, in commit order. */
  async changesAfter(cursor: number, limit: number): Promise<ChangeRecord[]> {
    const rows = await this.#db
      .selectFrom('config_change')
      .select(['id', 'kind', 'name', 'new_name', 'op'])
      .where('id', '>', cursor as never)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, name: r.name, newName: r.new_name, op: r.op }));
  }

  /** Deletes changes older than `ageMs`; resolves with how many. */
  async trimChanges(ageMs: number): Promise<number> {
    const result = await sql`delete from config_change
      where created_at < now() - make_interval(secs => ${ageMs / 1000})`.execute(this.#db);
    return Number(result.numAffectedRows ?? 0);
  }

  /** One stored config object's body, or undefined. */
  async configObject(kind: string, name: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('config_object')
      .select('body')
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.body;
  }

  /** Every stored config object (a few hundred rows), for a full reconcile. */
  async configObjects(): Promise<StoredConfig[]> {
    return this.#db.selectFrom('config_object').select(['kind', 'name', 'body']).orderBy('kind').orderBy('name').execute();
  }

  /** Sends a NOTIFY on its own (never inside a data transaction: cluster-notes §2, the global commit lock). */
  async notify(channel: string, payload: string): Promise<void> {
    await sql`select pg_notify(${channel}, ${payload})`.execute(this.#db);
  }
}
