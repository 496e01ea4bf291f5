import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { SwitchboardError } from '../errors/index.js';
import { lockKey, SessionConnection, type ClusterRepository, type LockKey, type PostgresLocation } from '../store/index.js';
import type { ClusterDescription, ClusterView } from './view.js';

/** How a server takes part in the cluster's membership. */
export interface MembershipOptions {
  readonly repository: ClusterRepository;
  readonly location: PostgresLocation;
  readonly version: string;
  /** Milliseconds between heartbeats (cluster-notes §3.4: 5 s). */
  readonly heartbeatMs: number;
  /** A server whose last heartbeat is older than this is reaped by the housekeeper (15 s). */
  readonly expiryMs: number;
  /** WebSocket clients connected now, written with each heartbeat. */
  readonly clients: () => number;
  /** More housekeeping, run by the housekeeper every heartbeat (idempotent, like the rest). */
  readonly chores?: () => Promise<void>;
  readonly logger: Logger;
}

/**
 * This server's row in `cluster_server` (cluster-notes §3.4). Start: take the name lock on a session connection of
 * its own (held: another live process has the name, refuse; free: any earlier holder is dead, so replace its row),
 * then register. Every `heartbeatMs`: heartbeat — a row found gone means the housekeeper reaped this server while it
 * could not reach the database, so it is *fenced*: emits `fenced` (the server closes its clients) and registers
 * again; and try the housekeeping lock, whose holder reaps expired servers (emitting `reaped` with their names and ids).
 * Everything it does twice by accident (two housekeepers for a moment) is idempotent.
 */
export class Membership extends EventEmitter implements ClusterView {
  /** This incarnation's id, new at every start. */
  readonly serverId = `srv.${randomBytes(8).toString('hex')}`;
  readonly #o: MembershipOptions;
  #name = '';
  #nameLock: LockKey = [0, 0];
  readonly #housekeepingLock: LockKey;
  readonly #log: Logger;
  #session: SessionConnection | undefined;
  #housekeeper = false;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #closed = false;
  #failing = false;
  #fencings = 0;

  constructor(options: MembershipOptions) {
    super();
    this.#o = options;
    this.#log = options.logger.child({ part: 'cluster' });
    this.#housekeepingLock = lockKey(options.location.schema, 'housekeeping');
  }

  /** True while this server holds the housekeeping role. */
  get housekeeper(): boolean {
    return this.#housekeeper;
  }

  /** Times this server found itself reaped and registered again. */
  get fencings(): number {
    return this.#fencings;
  }

  /** Takes the name, registers and starts heartbeating; throws `server_name_taken` when a live server has the name. */
  async start(name: string): Promise<void> {
    this.#name = name;
    this.#nameLock = lockKey(this.#o.location.schema, `name:${name}`);
    await this.#openSession();
    await this.#register();
    await this.#tryHousekeeping();
    this.#schedule();
  }

  async describe(): Promise<ClusterDescription> {
    const rows = await this.#o.repository.members(this.#housekeepingLock);
    const servers = rows.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), self: r.serverId === this.serverId }));
    return {
      clustered: true,
      database: 'postgres',
      self: this.#name,
      housekeeper: servers.find((s) => s.housekeeping)?.name ?? null,
      heartbeatMs: this.#o.heartbeatMs,
      expiryMs: this.#o.expiryMs,
      servers,
    };
  }

  /** Stops heartbeating and leaves the cluster (deletes the row, ends the session: its locks go). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#tick;
    await this.#o.repository.deregister(this.serverId).catch(() => undefined);
    await this.#session?.close();
  }

  async #openSession(): Promise<void> {
    const session = await SessionConnection.open(this.#o.location, `switchboard-session-${this.#name}`);
    session.on('lost', (why: string) => {
      this.#housekeeper = false;
      this.#log.warn({ reason: why }, 'Lost the cluster session connection (and its locks); reopening it');
    });
    if (!(await session.tryLock(this.#nameLock))) {
      await session.close();
      throw new SwitchboardError(
        'server_name_taken',
        `Another live server of this cluster is named ${this.#name}: give each server its own SWITCHBOARD_SERVER_NAME`,
      );
    }
    this.#session = session;
  }

  async #register(): Promise<void> {
    const { repository, version } = this.#o;
    await repository.register({
      serverId: this.serverId,
      name: this.#name,
      host: hostname(),
      pid: process.pid,
      version,
      sessionPid: this.#session?.pid ?? 0,
    });
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#beat().finally(() => this.#schedule());
    }, this.#o.heartbeatMs);
    this.#timer.unref();
  }

  // Never throws: a database that cannot be reached is logged once, and the next beat tries again.
  async #beat(): Promise<void> {
    try {
      if (!this.#session?.alive) await this.#reopenSession();
      const present = await this.#o.repository.heartbeat(this.serverId, this.#o.clients(), this.#session?.pid ?? null);
      if (!present) await this.#fenced();
      await this.#tryHousekeeping();
      if (this.#housekeeper) await this.#housekeep();
      if (this.#failing) this.#log.info('The cluster heartbeat reaches the database again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#log.error({ err }, 'Cluster heartbeat failed; retrying every heartbeat');
      this.#failing = true;
    }
  }

  async #reopenSession(): Promise<void> {
    const old = this.#session;
    this.#session = undefined;
    await old?.close();
    await this.#openSession();
  }

  async #fenced(): Promise<void> {
    this.#fencings++;
    this.#log.warn(
      { server: this.#name },
      'This server was reaped by the housekeeper (heartbeats missed): fenced, registering again',
    );
    this.emit('fenced');
    await this.#register();
  }

  async #tryHousekeeping(): Promise<void> {
    if (this.#housekeeper || !this.#session?.alive) return;
    if (!(await this.#session.tryLock(this.#housekeepingLock))) return;
    this.#housekeeper = true;
    this.#log.info({ server: this.#name }, 'This server does the cluster housekeeping now');
  }

  async #housekeep(): Promise<void> {
    await this.#o.chores?.();
    const reaped = await this.#o.repository.reapExpired(this.#o.expiryMs);
    if (!reaped.length) return;
    const names = reaped.map((r) => r.name);
    this.#log.warn({ servers: names }, 'Reaped servers whose heartbeat expired');
    this.emit(
      'reaped',
      names,
      reaped.map((r) => r.serverId),
    );
  }
}
