import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ConnectionClosedError, ValidationError } from '../errors/index.js';
import { silentLogger, type Logger } from '../observability/index.js';
import { backoffDelay, type BackoffConfig } from '../protocol/index.js';
import { ListenConnection } from '../store/index.js';

/** How a server's LISTEN connection is set up (cluster-notes §3.1). */
export interface ClusterListenerOptions {
  /** A `postgres://` URL; no `?schema=` needed: LISTEN is per database. */
  readonly connectionString: string;
  /** `application_name` (e.g. `switchboard-listen-<server name>`), cut to 63 bytes as PostgreSQL would. */
  readonly applicationName: string;
  /** Channel names as {@link channelName} builds them. */
  readonly channels: readonly string[];
  /** How often a `select 1` checks the connection; default 10 s. */
  readonly probeIntervalMs?: number;
  /** A probe unanswered this long ends the connection; default 5 s. */
  readonly probeTimeoutMs?: number;
  /** Reconnect backoff in seconds; default 0.5 s → 30 s, doubling, as outgoing WSX connections. */
  readonly reconnect?: BackoffConfig;
  readonly logger?: Logger;
}

/** The events a {@link ClusterListener} emits. */
export interface ClusterListenerEvents {
  /** A NOTIFY on one of the channels, its payload as sent ('' for an empty NOTIFY, a wake-up). */
  notification: [channel: string, payload: string];
  /** LISTENing on every channel, the first time or again after a loss: NOTIFYs meanwhile are lost, so resync. */
  listening: [reconnected: boolean];
  /** The connection was lost (an error, its end, a failed probe); a reconnect is scheduled. */
  lost: [reason: string];
}

const MAX_IDENTIFIER_BYTES = 63;
// Identifiers that mean the same quoted and unquoted; a name PostgreSQL would fold or truncate would not match the
// NOTIFY side's.
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const SUFFIX = /^[a-z0-9_]{1,51}$/;
const DEFAULT_RECONNECT: BackoffConfig = { initial: 0.5, max: 30, factor: 2 };
const CONNECT_TIMEOUT_MS = 10_000;

/** A NOTIFY channel name for this cluster: `sb_<8 hex of sha256(scope)>_<suffix>`, ≤ 63 bytes, lower case. */
export function channelName(scope: string, suffix: string): string {
  if (!SUFFIX.test(suffix)) {
    throw new ValidationError('invalid_input', `A channel suffix is 1 to 51 of a-z, 0-9 and _, not "${suffix}"`, {
      field: 'suffix',
    });
  }
  // The scope (the schema) is hashed, not spelled out: clusters in different schemas of one database must not hear
  // each other, and a schema name may be 63 bytes on its own.
  return `sb_${createHash('sha256').update(scope).digest('hex').slice(0, 8)}_${suffix}`;
}

/**
 * The dedicated LISTEN connection every clustered server keeps: one `pg.Client`, probed, reconnected with
 * full-jitter backoff after any loss. NOTIFY only wakes (the tables carry the state), so a consumer resyncs on
 * every `listening`.
 */
export class ClusterListener extends EventEmitter<ClusterListenerEvents> {
  readonly #options: Required<Omit<ClusterListenerOptions, 'logger'>>;
  readonly #log: Logger;
  #current: ListenConnection | undefined;
  #connecting: ListenConnection | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #reconnects = 0;
  #started = false;
  #closed = false;

  /** Throws a ValidationError on a bad option. */
  constructor(options: ClusterListenerOptions) {
    super();
    this.#options = {
      connectionString: options.connectionString,
      applicationName: cutToBytes(options.applicationName, MAX_IDENTIFIER_BYTES),
      channels: [...new Set(options.channels)],
      probeIntervalMs: options.probeIntervalMs ?? 10_000,
      probeTimeoutMs: options.probeTimeoutMs ?? 5_000,
      reconnect: options.reconnect ?? DEFAULT_RECONNECT,
    };
    validate(this.#options);
    this.#log = (options.logger ?? silentLogger()).child({ part: 'cluster-listener' });
  }

  /** Resolves once LISTENing on every channel; rejects (and leaves nothing running) if that first connect fails. */
  async start(): Promise<void> {
    if (this.#started) throw new ConnectionClosedError('connection_stopped', 'The cluster listener was started already');
    this.#started = true;
    try {
      await this.#connect(false);
    } catch (err) {
      throw new ConnectionClosedError('not_connected', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** Stops probes and reconnects and closes the connection, whatever it is doing. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const open = [this.#current, this.#connecting];
    this.#current = undefined;
    this.#connecting = undefined;
    await Promise.all(open.map((c) => c?.destroy()));
  }

  /** True while LISTENing. */
  get connected(): boolean {
    return this.#current !== undefined;
  }

  /** Successful re-LISTENs after a loss (`switchboard_cluster_listen_reconnects_total`). */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** One attempt: connect and LISTEN; throws on failure, never leaves a connection behind. */
  async #connect(reconnected: boolean): Promise<void> {
    if (this.#closed) throw new Error('The cluster listener is closed');
    const connection = new ListenConnection(
      { ...this.#options, connectTimeoutMs: CONNECT_TIMEOUT_MS },
      {
        notification: (channel, payload) => this.#emit('notification', channel, payload),
        lost: (reason) => this.#lose(connection, reason),
      },
    );
    this.#connecting = connection;
    try {
      await connection.listen();
    } catch (err) {
      if (this.#closed) throw new Error('The cluster listener was closed while connecting', { cause: err });
      throw err;
    } finally {
      if (this.#connecting === connection) this.#connecting = undefined;
    }
    if (this.#closed) {
      await connection.destroy();
      throw new Error('The cluster listener was closed while connecting');
    }
    this.#current = connection;
    this.#attempt = 0;
    if (reconnected) this.#reconnects++;
    this.#log.info({ channels: this.#options.channels.length, reconnected }, 'Cluster listener LISTENing');
    this.#scheduleProbe(connection);
    this.#emit('listening', reconnected);
  }

  #scheduleProbe(connection: ListenConnection): void {
    this.#timer = setTimeout(() => {
      connection.probe(this.#options.probeTimeoutMs).then(
        () => {
          if (this.#current === connection) this.#scheduleProbe(connection);
        },
        (err: unknown) => this.#lose(connection, err instanceof Error ? err.message : String(err)),
      );
    }, this.#options.probeIntervalMs);
  }

  #lose(connection: ListenConnection, reason: string): void {
    if (this.#current !== connection) return;
    this.#current = undefined;
    clearTimeout(this.#timer);
    void connection.destroy();
    this.#log.warn({ reason }, 'Cluster listener lost its connection; reconnecting');
    this.#emit('lost', reason);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const delay = backoffDelay(this.#attempt++, this.#options.reconnect);
    this.#timer = setTimeout(() => {
      this.#connect(true).catch((err: unknown) => {
        if (this.#closed) return;
        this.#log.warn({ err, attempt: this.#attempt }, 'Cluster listener could not reconnect');
        this.#scheduleReconnect();
      });
    }, delay);
  }

  // A consumer's handler that throws must not end the loop (or escape a socket callback): it is logged.
  #emit<K extends keyof ClusterListenerEvents>(event: K, ...args: ClusterListenerEvents[K]): void {
    try {
      // TypeScript cannot match a generic key's arguments to EventEmitter's overloads.
      (this.emit as (e: K, ...a: ClusterListenerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#log.error({ err, event }, 'A cluster listener handler threw');
    }
  }
}

function validate(options: Required<Omit<ClusterListenerOptions, 'logger'>>): void {
  const fail = (field: string, message: string): never => {
    throw new ValidationError('invalid_input', message, { field });
  };
  if (options.channels.length === 0) fail('channels', 'A cluster listener needs at least one channel');
  for (const channel of options.channels) {
    if (!CHANNEL.test(channel)) fail('channels', `"${channel}" is not a channel name (a-z, 0-9, _; at most 63)`);
  }
  for (const field of ['probeIntervalMs', 'probeTimeoutMs'] as const) {
    const value = options[field];
    if (!Number.isInteger(value) || value < 1) fail(field, `${field} must be a whole number of milliseconds ≥ 1`);
  }
  const { initial, max, factor } = options.reconnect;
  if (!(initial > 0 && max >= initial && factor >= 1)) {
    fail('reconnect', 'reconnect needs initial > 0, max ≥ initial and factor ≥ 1 (seconds)');
  }
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes, never splitting a character. */
function cutToBytes(text: string, bytes: number): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}
