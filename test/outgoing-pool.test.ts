import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../src/observability/index.js';
import { AcquireTimeoutError, OutgoingConnection, normalizeOutgoing, type OutgoingInput } from '../src/outgoing/wsx/index.js';
import { SwitchboardError } from '../src/errors/index.js';
import { HostileRemote, type ClientFrame } from './helpers/hostile-remote.js';
import { freePort, waitFor } from './helpers/server.js';

// The outgoing pool on its own, through its public surface (`client()`, `state()`, `start()`, `stop()`), against an
// in-process `ws` server: no Switchboard server, no store, no admin API.

/** A plain remote that records, per accepted socket, the messages it received. */
class RecordingRemote {
  readonly perSocket: string[][] = [];
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    wss.on('connection', (ws) => {
      const inbox: string[] = [];
      this.perSocket.push(inbox);
      this.#sockets.add(ws);
      ws.on('error', () => undefined);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('message', (data) => inbox.push(data.toString()));
    });
  }

  static start(port = 0): Promise<RecordingRemote> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ port, host: '127.0.0.1' });
      wss.once('error', reject);
      wss.once('listening', () => resolve(new RecordingRemote(wss)));
    });
  }

  get url(): string {
    const address = this.#wss.address();
    return `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/pool`;
  }

  get open(): number {
    return this.#sockets.size;
  }

  async kill(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

const stats = () => ({ messagesIn: 0, messagesOut: 0, reconnects: 0, badFrames: 0 });
const noEvents = { connected: () => undefined, message: async () => undefined, closed: () => undefined };

const pools: OutgoingConnection[] = [];
const remotes: Array<{ kill?: () => Promise<void>; close?: () => Promise<void> }> = [];

function pool(input: Partial<OutgoingInput> & { address: string }): OutgoingConnection {
  const config = normalizeOutgoing({ name: 'pool-test', pingInterval: 0, reconnect: { initial: 0.02, max: 0.05 }, ...input });
  const conn = new OutgoingConnection(config, {
    events: noEvents,
    credentials: async () => undefined,
    logger: silentLogger(),
    stats: stats(),
  });
  pools.push(conn);
  return conn;
}

const connected = (conn: OutgoingConnection, n: number) =>
  waitFor(() => conn.state().connected === n, 5000, `${n} connected sockets`);

afterEach(async () => {
  for (const conn of pools.splice(0)) conn.stop('test over');
  for (const remote of remotes.splice(0)) await (remote.kill?.() ?? remote.close?.());
});

describe('outgoing pool: sockets and leases', () => {
  test('poolSize sockets connect, and state() counts them', async () => {
    const remote = await RecordingRemote.start();
    remotes.push(remote);
    const conn = pool({ address: remote.url, poolSize: 3 });
    assert.equal(conn.state().poolSize, 3);
    assert.equal(conn.state().connected, 0, 'nothing connects before start()');
    conn.start();
    await connected(conn, 3);
    assert.equal(remote.open, 3);
    const state = conn.state();
    assert.equal(state.state, 'connected');
    assert.ok(state.connectedSince);
    assert.equal(state.nextAttemptAt, undefined);
  });

  test('leases do not lock a socket: many at once on a pool of two, spread over both sockets', async () => {
    const remote = await RecordingRemote.start();
    remotes.push(remote);
    const conn = pool({ address: remote.url, poolSize: 2 });
    conn.start();
    await connected(conn, 2);
    const clients = await Promise.all(Array.from({ length: 10 }, () => conn.client()));
    await Promise.all(clients.map((client, i) => client.send({ i })));
    await waitFor(() => remote.perSocket.flat().length === 10, 3000, 'ten messages');
    assert.deepEqual(
      remote.perSocket.map((inbox) => inbox.length),
      [5, 5],
      'leases alternate between equally idle sockets',
    );
    assert.deepEqual(
      remote.perSocket
        .flat()
        .map((m) => (JSON.parse(m) as { i: number }).i)
        .sort((a, b) => a - b),
      [...Array(10).keys()],
    );
    for (const client of clients) client.release();
  });

  test('a plain remote: send() resolves with undefined once written; invoke() is the same as send()', async () => {
    const remote = await RecordingRemote.start();
    remotes.push(remote);
    const conn = pool({ address: remote.url });
    conn.start();
    await connected(conn, 1);
    const client = await conn.client();
    assert.equal(await client.send('text as is'), undefined);
    assert.equal(await client.invoke({ as: 'json' }), undefined);
    await waitFor(() => remote.perSocket[0]!.length === 2, 3000, 'two messages');
    assert.deepEqual(remote.perSocket[0], ['text as is', '{"as":"json"}']);
    client.release();
  });

  test('await using releases the lease at the end of the block; a released client refuses to send', async () => {
    const remote = await RecordingRemote.start();
    remotes.push(remote);
    const conn = pool({ address: remote.url });
    conn.start();
    await connected(conn, 1);
    let kept: Awaited<ReturnType<OutgoingConnection['client']>> | undefined;
    {
      await using client = await conn.client();
      await client.send('inside');
      kept = client;
    }
    await assert.rejects(
      kept.send('after'),
      (err: unknown) => err instanceof SwitchboardError && err.code === 'client_released' && err.status === 400,
    );
    const other = await conn.client();
    other.release();
    await assert.rejects(other.invoke('after release()'), /was released/);
  });

  test('a Zato remote: a lease picks the socket with the fewest pending replies', async () => {
    const remote = await HostileRemote.start();
    remotes.push(remote);
    const held: ClientFrame[] = [];
    // The first request is left unanswered: its socket has one pending reply while the other has none.
    remote.onInvoke = (ws, request) => {
      if ((request.data as { hold?: boolean }).hold) held.push(request);
      else
        ws.send(
          JSON.stringify({
            meta: { id: 'srv.r', timestamp: '', msg_type: 'zwsx.rspok', status: 200, in_reply_to: request.meta.id },
            data: request.data,
          }),
        );
    };
    const conn = pool({ address: remote.url, isZato: true, poolSize: 2, responseTimeout: 5 });
    conn.start();
    await connected(conn, 2);
    const first = await conn.client();
    const pending = first.invoke({ hold: true });
    await waitFor(() => held.length === 1, 3000, 'the held request');
    const busy = conn.sockets.find((s) => s.pendingCount === 1);
    assert.ok(busy, 'one socket has the pending reply');
    for (let i = 0; i < 4; i++) {
      await using client = await conn.client();
      const reply = await client.invoke({ i });
      assert.equal(reply?.isOk, true);
      assert.deepEqual(reply?.data, { i });
    }
    assert.equal(busy.pendingCount, 1, 'no request went to the busy socket');
    conn.stop('done');
    await assert.rejects(pending, (err: unknown) => err instanceof SwitchboardError && err.code === 'connection_stopped');
    first.release();
  });
});

describe('outgoing pool: when the remote is down', () => {
  test('client() waits acquireTimeout, then a typed 503 acquire_timeout with the state and the last error', async () => {
    const conn = pool({ address: `ws://127.0.0.1:${await freePort()}/down`, acquireTimeout: 0.2 });
    conn.start();
    await waitFor(() => conn.state().lastError, 3000, 'a connection error');
    const started = Date.now();
    const err = await conn.client().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AcquireTimeoutError, String(err));
    assert.ok(Date.now() - started >= 180, 'it waited for acquireTimeout');
    assert.equal(err.code, 'acquire_timeout');
    assert.equal(err.status, 503);
    assert.match(err.message, /pool-test is (reconnecting|connecting), not connected; last error: .*ECONNREFUSED/);
  });

  test('a lease waiting while the remote is down gets the socket as soon as the remote is up', async () => {
    const port = await freePort();
    const conn = pool({ address: `ws://127.0.0.1:${port}/late`, acquireTimeout: 5 });
    conn.start();
    await waitFor(() => conn.state().state === 'reconnecting', 3000, 'reconnecting');
    const waiting = conn.client();
    const remote = await RecordingRemote.start(port);
    remotes.push(remote);
    const client = await waiting;
    await client.send('first');
    await waitFor(() => remote.perSocket[0]?.includes('first'), 3000, 'the message');
    client.release();
  });

  test('a remote that goes away: leases wait again, and state() says reconnecting with the next attempt', async () => {
    const port = await freePort();
    const remote = await RecordingRemote.start(port);
    const conn = pool({ address: `ws://127.0.0.1:${port}/away`, acquireTimeout: 0.1, reconnect: { initial: 1, max: 1 } });
    conn.start();
    await connected(conn, 1);
    await remote.kill();
    await waitFor(() => conn.state().state === 'reconnecting', 3000, 'reconnecting');
    assert.equal(conn.state().connected, 0);
    assert.ok(conn.state().nextAttemptAt);
    await assert.rejects(conn.client(), AcquireTimeoutError);
  });

  test('stop() fails the waiting leases at once with connection_stopped, and later ones too', async () => {
    const conn = pool({ address: `ws://127.0.0.1:${await freePort()}/down`, acquireTimeout: 30 });
    conn.start();
    const waiting = conn.client();
    const started = Date.now();
    conn.stop('going away');
    await assert.rejects(
      waiting,
      (err: unknown) => err instanceof SwitchboardError && err.code === 'connection_stopped' && err.status === 503,
    );
    assert.ok(Date.now() - started < 1000, 'without waiting for acquireTimeout');
    await assert.rejects(conn.client(), (err: unknown) => err instanceof SwitchboardError && err.code === 'connection_stopped');
    assert.equal(conn.state().state, 'stopped');
  });
});
