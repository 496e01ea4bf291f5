// Clients on any server (issue 12 item 4): the registry in `wsx_client`, calls and broadcasts over NOTIFY, payloads
// over the NOTIFY limit through `cluster_blob`. Real server processes on one PostgreSQL schema; cluster-notes §5
// tests 2, 6 and 9.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { channelName } from '../src/cluster/index.js';
import { ClientRegistry } from '../src/cluster/client-registry.js';
import { silentLogger } from '../src/observability/index.js';
import { ClientRepository, ClusterRepository, Store } from '../src/store/index.js';
import { TestCluster, type ClusterServer } from './helpers/cluster.js';
import { dropSchema, pgQuery, pgUrl, postgresUnavailable, schemaName } from './helpers/postgres.js';
import { freePort, waitFor } from './helpers/server.js';
import { TestClient, type Frame } from './helpers/wsx-client.js';

const unavailable = await postgresUnavailable();

// A service of server a reaching clients through `this.wsx.channel(name)`, as any service would.
const CALLER = `import { Service } from 'switchboard';
export class ClusterCall extends Service {
  static serviceName = 'test.cluster-call';
  async handle() {
    const { op, channel, pubClientId, request, timeout } = this.request.payload;
    const handle = this.wsx.channel(channel);
    if (op === 'broadcast') this.response.payload = { sent: await handle.broadcast(request) };
    else this.response.payload = { response: await handle.invoke(pubClientId, request, { timeout }) };
  }
}
`;

/** A client with a session that answers every request with `{ echo: <its data> }` (unless `silent`) and keeps pushes. */
class Peer {
  readonly pushes: unknown[] = [];
  pubClientId = '';

  private constructor(
    readonly client: TestClient,
    readonly server: ClusterServer,
    readonly name: string,
  ) {}

  static async connect(server: ClusterServer, url: string, name: string, silent = false): Promise<Peer> {
    const client = await TestClient.connect(url);
    const peer = new Peer(client, server, name);
    assert.equal((await client.createSession({ client_id: name })).meta.msg_type, 'zwsx.rspa');
    client.ws.on('message', (raw) => peer.#onMessage(JSON.parse(String(raw)) as Frame, silent));
    return peer;
  }

  #onMessage(frame: Frame, silent: boolean): void {
    if (frame.meta.msg_type !== 'zwsx.rqc') return;
    const data = frame.data as { ask?: unknown } | undefined;
    if (data?.ask === undefined) return void this.pushes.push(frame.data);
    if (silent) return;
    this.client.send({
      meta: { action: 'client-response', id: this.client.newId('r'), token: this.client.token, in_reply_to: frame.meta.id },
      data: { response: { echo: data.ask } },
    });
  }
}

describe('clients on any server of a cluster', { skip: unavailable }, () => {
  const cluster = new TestCluster();
  let a: ClusterServer;
  let b: ClusterServer;
  let c: ClusterServer;
  let port: number;
  const peers: Peer[] = [];
  const url = (s: ClusterServer) => s.wsUrl(port, '/any');

  async function peer(server: ClusterServer, name: string, silent = false): Promise<Peer> {
    const p = await Peer.connect(server, url(server), name, silent);
    const own = await waitFor(
      async () => (await server.api('GET', '/api/channels/wsx/any/clients')).body.find((x: any) => x.extClientId === name),
      5000,
      `${name} listed on ${server.name}`,
    );
    p.pubClientId = own.pubClientId;
    peers.push(p);
    return p;
  }

  async function listedBy(server: ClusterServer): Promise<any[]> {
    const res = await server.api<any[]>('GET', '/api/channels/wsx/any/clients');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  }

  /** Asks `target` from `server`'s admin API; it answers `{ echo: ask }`. */
  const invokeFrom = (server: ClusterServer, target: Peer, ask: unknown, timeout?: number) =>
    server.api('POST', `/api/channels/wsx/any/clients/${target.pubClientId}/invoke`, {
      request: { ask },
      ...(timeout && { timeout }),
    });

  const callService = (server: ClusterServer, request: unknown) =>
    server.api('POST', '/api/services/test.cluster-call/invoke', { request });

  before(async () => {
    port = await freePort();
    [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => cluster.server(n)));
    await a!.addService('cluster-call.ts', CALLER);
    await Promise.all([a!.start(), b!.start(), c!.start()]);
    const created = await a!.api('POST', '/api/channels/wsx', {
      name: 'any',
      service: 'zato.helpers.echo',
      protocol: 'zato',
      address: `ws://127.0.0.1:${port}/any`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const s of [b!, c!]) {
      await waitFor(async () => (await s.api('GET', '/api/channels/wsx/any')).body?.runtime?.state === 'listening', 10_000);
    }
  });

  after(async () => {
    for (const p of peers) p.client.close();
    await cluster.close();
  });

  test('a client on b is listed by a, with its server, next to a’s own', async () => {
    const onB = await peer(b, 'list-b');
    const onA = await peer(a, 'list-a');
    const listed = await waitFor(async () => {
      const all = await listedBy(a);
      return all.some((x) => x.pubClientId === onB.pubClientId) ? all : undefined;
    }, 5000);
    const fromB = listed.find((x) => x.pubClientId === onB.pubClientId);
    assert.equal(fromB.server, 'b');
    assert.equal(fromB.extClientId, 'list-b');
    assert.equal(fromB.channelName, 'any');
    assert.equal(fromB.protocol, 'zato');
    assert.equal(fromB.hasSession, true);
    assert.ok(!Number.isNaN(Date.parse(fromB.connectedAt)) && !Number.isNaN(Date.parse(fromB.lastSeen)));
    assert.equal(listed.find((x) => x.pubClientId === onA.pubClientId).server, 'a');
    assert.equal(listed.filter((x) => x.pubClientId === onB.pubClientId).length, 1, 'listed once');
  });

  test('the admin API of a invokes a client of b and gets its response', async () => {
    const onB = await peer(b, 'invoke-b');
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000);
    const res = await invokeFrom(a, onB, { n: 1 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { response: { echo: { n: 1 } } });
  });

  test('a service on a reaches a client of b through this.wsx.channel(name).invoke', async () => {
    const onB = await peer(b, 'service-b');
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000);
    const res = await callService(a, { op: 'invoke', channel: 'any', pubClientId: onB.pubClientId, request: { ask: 'hi' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { response: { response: { echo: 'hi' } } });
  });

  test('DELETE on a closes a client of b with 4005, and it leaves every list', async () => {
    const onB = await peer(b, 'delete-b');
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000);
    const res = await a.api('DELETE', `/api/channels/wsx/any/clients/${onB.pubClientId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await onB.client.closed).code, 4005);
    await waitFor(async () => !(await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000, 'gone from a');
    const again = await a.api('DELETE', `/api/channels/wsx/any/clients/${onB.pubClientId}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, 'client_not_found');
  });

  test('an unknown client is client_not_found, for an invoke as for a DELETE', async () => {
    const res = await a.api('POST', '/api/channels/wsx/any/clients/ws.nobody/invoke', { request: 1 });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'client_not_found');
  });

  test('a client of b that never answers is client_timeout on a', async () => {
    const silent = await peer(b, 'silent-b', true);
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === silent.pubClientId), 5000);
    const res = await invokeFrom(a, silent, 'anyone?', 0.3);
    assert.equal(res.status, 504, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'client_timeout');
  });

  test('a broadcast from a reaches every client of a, b and c exactly once', async () => {
    const group = [];
    for (const s of [a, b, c]) for (const i of [1, 2]) group.push(await peer(s, `bcast-${s.name}-${i}`));
    for (const p of group) await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === p.pubClientId), 5000);
    const everyone = peers.filter((p) => p.client.ws.readyState === p.client.ws.OPEN);
    const localOnA = everyone.filter((p) => p.server === a).length;
    for (const n of [1, 2, 3, 'end']) {
      const res = await callService(a, { op: 'broadcast', channel: 'any', request: { bcast: n } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.response.sent, localOnA, "sent counts a's own clients");
    }
    const isEnd = (x: unknown) => (x as { bcast?: unknown }).bcast === 'end';
    for (const p of everyone) await waitFor(() => p.pushes.some(isEnd), 5000, `the last broadcast on ${p.name}`);
    for (const p of everyone) {
      const got = p.pushes.filter((x) => typeof (x as { bcast?: unknown }).bcast !== 'undefined');
      assert.deepEqual(got, [{ bcast: 1 }, { bcast: 2 }, { bcast: 3 }, { bcast: 'end' }], `${p.name} on ${p.server.name}`);
    }
  });

  test('payloads over the NOTIFY limit: exactly 8,000 bytes and 100 KB, request, response and broadcast', async () => {
    const onB = await peer(b, 'big-b');
    const onC = await peer(c, 'big-c');
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000);
    // 4,001 characters, 8,000 bytes as JSON: a limit counted in characters would send it inline, and PostgreSQL
    // refuses a notification of 8,000 bytes.
    const edge = 'é'.repeat(3999);
    assert.equal(Buffer.byteLength(JSON.stringify(edge)), 8000);
    const big = 'x'.repeat(100 * 1024);
    for (const value of [edge, big]) {
      const res = await invokeFrom(a, onB, value);
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      assert.equal(res.body.response.echo, value);
      const viaService = await callService(a, {
        op: 'invoke',
        channel: 'any',
        pubClientId: onB.pubClientId,
        request: { ask: value },
      });
      assert.equal(viaService.body.response.response.echo, value);
    }
    const left = await pgQuery<{ n: number }>(`select count(*)::int as n from "${cluster.schema}".cluster_blob`);
    assert.equal(left[0]!.n, 0, 'the receiver of a call or reply deletes its blob');
    await callService(a, { op: 'broadcast', channel: 'any', request: { bcast: 'big', big } });
    for (const p of [onB, onC]) {
      const got = await waitFor(() => p.pushes.find((x) => (x as { bcast?: unknown }).bcast === 'big'), 5000, p.name);
      assert.equal((got as { big: string }).big, big);
    }
  });

  test('malformed notifications on a server’s channel are ignored: it keeps serving calls', async () => {
    const onB = await peer(b, 'garbage-b');
    const { body } = await b.api('GET', '/api/cluster');
    const bId = body.servers.find((s: { name: string }) => s.name === 'b').serverId as string;
    const own = channelName(cluster.schema, `srv_${bId.slice(4)}`);
    const bcast = channelName(cluster.schema, 'bcast');
    const members = channelName(cluster.schema, 'members');
    const junk = [
      'not json',
      '[]',
      '{"t":"invoke"}',
      JSON.stringify({ t: 'invoke', rid: 'x', from: 'srv.nothex', channel: 'any', pubClientId: onB.pubClientId, timeout: 5 }),
      JSON.stringify({ t: 'invoke', rid: 'x', from: `srv.${'0'.repeat(16)}`, channel: 'any', pubClientId: 'p', timeout: -1 }),
      JSON.stringify({ t: 'reply', rid: 'nobody', ok: false }),
      JSON.stringify({ t: 'reply', rid: 'nobody', ok: true, blob: '1; drop table' }),
    ];
    for (const payload of junk) await pgQuery('select pg_notify($1, $2)', [own, payload]);
    for (const payload of ['{}', JSON.stringify({ origin: 'me', channel: 'any', data: 1 })])
      await pgQuery('select pg_notify($1, $2)', [bcast, payload]);
    await pgQuery('select pg_notify($1, $2)', [members, JSON.stringify({ gone: ['x'] })]);
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onB.pubClientId), 5000);
    const res = await invokeFrom(a, onB, 'still there?');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.response.echo, 'still there?');
    assert.equal(b.child!.exitCode, null);
    assert.ok(!onB.pushes.length, 'a broadcast without a valid origin is not applied');
  });

  test('kill -9 of b: its clients leave a’s list within the expiry and are client_not_found; its rows go', async () => {
    const onB = await peer(b, 'killed-b');
    const silent = await peer(b, 'killed-silent-b', true);
    for (const p of [onB, silent])
      await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === p.pubClientId), 5000);
    // Waiting for an answer when b dies: the housekeeper's notice ends it long before its 60 s.
    const pending = invokeFrom(a, silent, 'are you there?', 60);
    await waitFor(() => silent.client.received.length > 0 || silent.client.ws.readyState !== silent.client.ws.OPEN, 5000);
    await b.kill('SIGKILL');
    const cut = await pending;
    assert.equal(cut.status, 503, JSON.stringify(cut.body));
    assert.equal(cut.body.error.code, 'connection_closed');
    await waitFor(async () => !(await listedBy(a)).some((x) => x.server === 'b'), 10_000, "b's clients gone from a's list");
    const res = await invokeFrom(a, onB, 'hello?');
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'client_not_found');
    const rows = async () =>
      (
        await pgQuery<{ n: number }>(
          `select count(*)::int as n from "${cluster.schema}".wsx_client c
            where not exists (select 1 from "${cluster.schema}".cluster_server s where s.server_id = c.server_id)`,
        )
      )[0]!.n;
    await waitFor(
      async () => (await a.api('GET', '/api/cluster')).body.servers.every((s: { name: string }) => s.name !== 'b'),
      10_000,
      'b reaped',
    );
    assert.equal(await rows(), 0);
    const onBRows = await pgQuery<{ n: number }>(
      `select count(*)::int as n from "${cluster.schema}".wsx_client where pub_client_id = $1`,
      [onB.pubClientId],
    );
    assert.equal(onBRows[0]!.n, 0, "b's rows went with its cluster_server row");
  });

  test('a clean stop of c deletes its rows', async () => {
    const onC = await peer(c, 'stopped-c');
    await waitFor(async () => (await listedBy(a)).some((x) => x.pubClientId === onC.pubClientId), 5000);
    await c.kill('SIGTERM');
    const rows = await pgQuery<{ n: number }>(
      `select count(*)::int as n from "${cluster.schema}".wsx_client where pub_client_id = $1`,
      [onC.pubClientId],
    );
    assert.equal(rows[0]!.n, 0);
    assert.ok(!(await listedBy(a)).some((x) => x.server === 'c'));
  });
});

describe('the client registry writes behind, in batches', { skip: unavailable }, () => {
  const schema = schemaName('sb_registry');
  let store: Store;
  const serverId = `srv.${'ab'.repeat(8)}`;

  /** The real repository, counting its transactions. */
  class CountingRepository extends ClientRepository {
    writes = 0;
    override async write(...args: Parameters<ClientRepository['write']>): Promise<void> {
      this.writes++;
      return super.write(...args);
    }
  }

  const client = (id: string) => ({
    pubClientId: id,
    channelName: 'ch',
    extClientId: undefined,
    extClientName: undefined,
    peerAddress: '127.0.0.1:1',
    protocol: 'zato' as const,
    connectedAt: new Date().toISOString(),
  });
  const rows = async () =>
    (await pgQuery<{ id: string }>(`select pub_client_id as id from "${schema}".wsx_client order by 1`)).map((r) => r.id);

  before(async () => {
    store = await Store.open({ path: pgUrl(schema) });
  });
  after(async () => {
    await store.close();
    await dropSchema(schema);
  });

  test('what is recorded before open() waits; a burst is one transaction; a client gone within it is never written; a failed batch is retried', async () => {
    const repository = new CountingRepository(store);
    const registry = new ClientRegistry({ repository, serverId, expiryMs: 60_000, logger: silentLogger() });
    for (let i = 0; i < 100; i++) registry.record(client(`ws.burst${String(i).padStart(3, '0')}`));
    registry.record(client('ws.brief'));
    registry.forget('ws.brief');
    // No cluster_server row yet: the first batch fails on the foreign key and is kept.
    registry.open();
    await waitFor(() => repository.writes === 1, 3000, 'the first attempt');
    assert.deepEqual(await rows(), []);
    await new ClusterRepository(store).register({ serverId, name: 'reg', host: 'h', pid: 1, version: 'v', sessionPid: 0 });
    await waitFor(async () => (await rows()).length === 100, 5000, 'the retried batch');
    assert.equal(repository.writes, 2, 'the burst and its retry: one transaction each');
    assert.ok(!(await rows()).includes('ws.brief'));
    registry.forget('ws.burst000');
    await waitFor(async () => !(await rows()).includes('ws.burst000'), 3000, 'a forgotten client deleted');
    await registry.close();
    registry.record(client('ws.after-close'));
    await new ClusterRepository(store).deregister(serverId);
    assert.deepEqual(await rows(), [], "a server's rows go with its cluster_server row");
  });
});
