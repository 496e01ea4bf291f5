import type { Logger } from 'pino';
import {
  ConnectionClosedError,
  isErrorCode,
  NotFoundError,
  ServiceError,
  SwitchboardError,
  TimeoutError,
  toSwitchboardError,
} from '../errors/index.js';
import { CLOSE_CODE, PendingRequests, newCid } from '../protocol/index.js';
import type { ClientRegistry } from './client-registry.js';
import type { NotifyPayloads } from './notify-payloads.js';
import type { CallKind, CallReply, CallRequest } from './rpc-messages.js';

/** What a call from another server runs here: this server's clients only. */
export interface LocalClients {
  invoke(channelName: string, pubClientId: string, data: unknown, timeoutMs: number): Promise<unknown>;
  send(channelName: string, pubClientId: string, data: unknown): Promise<void>;
  disconnect(channelName: string, pubClientId: string, code: number, reason: string): Promise<void>;
  broadcast(channelName: string, data: unknown): Promise<number>;
}

/** What one call carries besides its kind and client. */
export interface CallArgs {
  readonly data?: unknown;
  /** How long the client has (an invoke); the caller waits one second more for the reply. */
  readonly timeoutMs: number;
  readonly code?: number;
  readonly reason?: string;
}

/** How calls reach the other servers. */
export interface RemoteCallsOptions {
  readonly serverId: string;
  /** The NOTIFY channel of a server, by id. */
  readonly channelOf: (serverId: string) => string;
  readonly registry: ClientRegistry;
  readonly payloads: NotifyPayloads;
  readonly local: LocalClients;
  readonly logger: Logger;
}

// A notification takes a millisecond or so; the second covers a busy database and the reply's own way back.
const REPLY_GRACE_MS = 1000;
const MAX_PENDING = 10_000;

/**
 * Calls to clients of other servers over NOTIFY (cluster-notes §3.6): a request on the owner's channel, its reply on
 * the caller's, correlated by `rid`. The caller gives up `timeout + 1 s` later (`client_timeout`); a reply after that
 * is dropped; a call to a server the housekeeper reaps meanwhile fails at once. The owner side runs each request
 * on its own clients and always answers, with the error when there is one.
 */
export class RemoteCalls {
  readonly #o: RemoteCallsOptions;
  readonly #pending = new PendingRequests<CallReply>(MAX_PENDING, {
    tooMany: (n) => new ConnectionClosedError('too_many_pending', `${n} calls to clients of other servers are waiting already`),
    timeout: (ms) =>
      new TimeoutError('client_timeout', `The client did not respond within ${ms - REPLY_GRACE_MS} ms (through the cluster)`),
  });
  // Which server each waiting call went to, to fail them when it is reaped.
  readonly #targets = new Map<string, string>();

  constructor(options: RemoteCallsOptions) {
    this.#o = options;
  }

  /** Runs `kind` on the client wherever it is connected; `client_not_found` when no live server has it. */
  async call(kind: CallKind, channel: string, pubClientId: string, args: CallArgs): Promise<unknown> {
    const row = await this.#o.registry.locate(channel, pubClientId);
    if (!row || row.serverId === this.#o.serverId) {
      throw new NotFoundError('client_not_found', `No client ${pubClientId} on channel ${channel}`);
    }
    const rid = newCid();
    const reply = this.#pending.add(rid, { timeoutMs: args.timeoutMs + REPLY_GRACE_MS });
    this.#targets.set(rid, row.serverId);
    try {
      const { data, timeoutMs, ...rest } = args;
      const request = { t: kind, rid, from: this.#o.serverId, channel, pubClientId, timeout: timeoutMs, ...rest };
      await this.#o.payloads.send(this.#o.channelOf(row.serverId), request, data);
    } catch (err) {
      this.#pending.fail(rid, toSwitchboardError(err), false);
    }
    try {
      return await this.#outcome(await reply);
    } finally {
      this.#targets.delete(rid);
    }
  }

  /** A reply arrived on this server's channel. */
  async replied(reply: CallReply): Promise<void> {
    if (!this.#pending.has(reply.rid)) return this.#o.payloads.discard(reply);
    if (!this.#pending.settle(reply.rid, reply)) await this.#o.payloads.discard(reply);
  }

  /** Servers were reaped: calls waiting for them fail now rather than at their timeout. */
  gone(serverIds: readonly string[]): void {
    const gone = new Set(serverIds);
    for (const [rid, target] of [...this.#targets]) {
      if (!gone.has(target)) continue;
      const err = new ConnectionClosedError('connection_closed', `The client's server left the cluster before it answered`);
      this.#pending.fail(rid, err, false);
    }
  }

  /** Runs a request from another server on this server's client and answers it; never throws. */
  async serve(request: CallRequest): Promise<void> {
    let reply: Omit<CallReply, 'data' | 'blob'>;
    let data: unknown;
    try {
      data = await this.#run(request, await this.#o.payloads.data(request, true));
      reply = { t: 'reply', rid: request.rid, ok: true };
    } catch (err) {
      const e = toSwitchboardError(err);
      data = undefined;
      reply = { t: 'reply', rid: request.rid, ok: false, error: { code: e.code, message: e.message, status: e.status } };
    }
    await this.#o.payloads.send(this.#o.channelOf(request.from), reply, data).catch((err: unknown) => {
      this.#o.logger.warn({ err, rid: request.rid }, 'Could not answer a call from another server');
    });
  }

  /** Fails every waiting call (the server is stopping). */
  close(): void {
    this.#pending.failAll(new ConnectionClosedError('connection_stopped', 'The server is stopping'));
  }

  #run(request: CallRequest, data: unknown): Promise<unknown> {
    const { channel, pubClientId } = request;
    const local = this.#o.local;
    if (request.t === 'invoke') return local.invoke(channel, pubClientId, data, request.timeout);
    if (request.t === 'send') return local.send(channel, pubClientId, data);
    return local.disconnect(channel, pubClientId, request.code ?? CLOSE_CODE.OPERATOR, request.reason ?? '');
  }

  async #outcome(reply: CallReply): Promise<unknown> {
    if (reply.ok) return this.#o.payloads.data(reply, true);
    const { code, message, status } = reply.error!;
    // The owner's error, as it would have been thrown here: a code of the table keeps the table's status.
    throw isErrorCode(code) ? new SwitchboardError(code, message) : new ServiceError(code, message, { status });
  }
}
