import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy to a real server, for faults a real network has: `stall()` stops forwarding on the open
 * connections (a black hole, as a partition looks), `refuse()` closes new ones at once, `cut()` drops the open ones.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<[Socket, Socket]>();
  // Server sides kept open after their client side was dropped (see `dropCommitAfter`).
  readonly #held = new Set<Socket>();
  #refusing = false;
  #trap: { readonly marker: string; readonly armed: Set<Socket> } | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on a free loopback port in front of `port` on 127.0.0.1. */
  static async start(port: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (socket) => proxy.#accept(socket, port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Open connections, both sides up. */
  get open(): number {
    return this.#pairs.size;
  }

  /** The local ports of the open connections to the real server (what PostgreSQL's `pg_stat_activity.client_port` shows). */
  get upstreamPorts(): number[] {
    return [...this.#pairs].map(([, upstream]) => upstream.localPort).filter((p): p is number => p !== undefined);
  }

  /** The open connections stop forwarding in both directions; new ones still work. */
  stall(): void {
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** While true, a new connection is closed as soon as it is accepted. */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /**
   * The connection whose client next sends `marker` (in a query or its parameters) loses its client side right after
   * it forwards that client's next `commit`: the server gets the COMMIT and acts on it, the client never hears back —
   * a connection lost during COMMIT. Once.
   */
  dropCommitAfter(marker: string): void {
    this.#trap = { marker, armed: new Set() };
  }

  /** Drops every open connection; resolves once their sockets are closed. */
  async cut(): Promise<void> {
    const sockets = [...this.#pairs].flat().concat([...this.#held]);
    this.#pairs.clear();
    this.#held.clear();
    await Promise.all(
      sockets.map((s) => {
        s.destroy();
        return s.closed ? undefined : once(s, 'close');
      }),
    );
  }

  async close(): Promise<void> {
    await this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, port: number): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const drop = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      if (!this.#held.has(upstream)) upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => this.#watch(pair, chunk));
  }

  // After pipe's own listener: the chunk is already on its way to the server.
  #watch(pair: [Socket, Socket], chunk: Buffer): void {
    const trap = this.#trap;
    const [client, upstream] = pair;
    if (!trap) return;
    if (!trap.armed.has(client)) {
      if (chunk.includes(trap.marker)) trap.armed.add(client);
      return;
    }
    if (!chunk.includes('commit')) return;
    this.#trap = undefined;
    this.#held.add(upstream);
    upstream.unpipe(client);
    upstream.resume();
    client.destroy();
  }
}
