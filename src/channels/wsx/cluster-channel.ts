import { CLOSE_CODE } from '../../protocol/index.js';
import type { ClientInvokeOptions, WsxChannelHandle, WsxClientInfo } from '../../services/index.js';
import type { ChannelRuntime } from './channel-runtime.js';
import { DEFAULT_INVOKE_TIMEOUT_MS } from './connection-limits.js';
import type { PushTarget } from './connection.js';
import type { RemoteClients } from './remote-clients.js';

/**
 * A channel of a clustered server as services and the admin API reach it: a client of this server takes the local
 * path, any other goes through the cluster; a broadcast reaches this server's clients directly and the others' through
 * one notification. `clients()` and `pushTarget()` stay this server's.
 */
export class ClusterChannel implements WsxChannelHandle {
  readonly #runtime: ChannelRuntime;
  readonly #remote: RemoteClients;

  constructor(runtime: ChannelRuntime, remote: RemoteClients) {
    this.#runtime = runtime;
    this.#remote = remote;
  }

  clients(): WsxClientInfo[] {
    return this.#runtime.clients();
  }

  pushTarget(pubClientId: string): PushTarget {
    return this.#runtime.pushTarget(pubClientId);
  }

  /** Resolves with how many clients of this server got it; the other servers' are not counted (fire-and-forget). */
  async broadcast(data: unknown): Promise<number> {
    const sent = await this.#runtime.broadcast(data);
    await this.#remote.broadcast(this.#runtime.name, data).catch((err: unknown) => {
      this.#runtime.logger.warn({ err }, "A broadcast reached this server's clients only: notifying the others failed");
    });
    return sent;
  }

  async invoke(pubClientId: string, data: unknown, options?: ClientInvokeOptions): Promise<unknown> {
    if (this.#runtime.hasClient(pubClientId)) return this.#runtime.invoke(pubClientId, data, options);
    const timeout = options?.timeout ?? DEFAULT_INVOKE_TIMEOUT_MS;
    return this.#remote.invoke(this.#runtime.name, pubClientId, data, timeout);
  }

  async send(pubClientId: string, data: unknown): Promise<void> {
    if (this.#runtime.hasClient(pubClientId)) return this.#runtime.send(pubClientId, data);
    return this.#remote.send(this.#runtime.name, pubClientId, data);
  }

  async disconnect(
    pubClientId: string,
    code: number = CLOSE_CODE.OPERATOR,
    reason = 'Disconnected by an operator',
  ): Promise<void> {
    if (this.#runtime.hasClient(pubClientId)) return this.#runtime.disconnect(pubClientId, code, reason);
    return this.#remote.disconnect(this.#runtime.name, pubClientId, code, reason);
  }
}
