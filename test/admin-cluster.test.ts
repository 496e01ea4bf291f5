import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

interface Member {
  name: string;
  serverId: string;
  host: string;
  pid: number;
  version: string;
  startedAt: string;
  heartbeatAgeMs: number;
  clients: number;
  housekeeping: boolean;
  self: boolean;
}

const cluster = async () => {
  const res = await server.api('GET', '/api/cluster');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { clustered: boolean; database: string; self: string; housekeeper: string | null; servers: Member[] };
};

describe('GET /api/cluster', () => {
  test('needs credentials: 401 without a token and with a wrong one', async () => {
    const none = await fetch(`${server.adminUrl}/api/cluster`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await server.api('GET', '/api/cluster', undefined, { authorization: 'Bearer nope' })).status, 401);
  });

  test('describes this server: itself, housekeeper, with its identity', async () => {
    const body = await cluster();
    // On PostgreSQL the membership may answer instead of the standalone view: assert what holds for one server.
    assert.equal(typeof body.clustered, 'boolean');
    assert.ok(['sqlite', 'postgres'].includes(body.database), body.database);
    assert.equal(body.self, server.serverName);
    assert.equal(body.housekeeper, server.serverName);
    assert.equal(body.servers.length, 1);
    const [me] = body.servers;
    assert.equal(me!.name, server.serverName);
    assert.equal(me!.self, true);
    assert.equal(me!.housekeeping, true);
    assert.match(me!.serverId, /^srv\.[0-9a-f]{16}$/);
    assert.equal(me!.pid, process.pid);
    assert.equal(me!.version, (await server.api('GET', '/api/health')).body.version);
    assert.ok(me!.heartbeatAgeMs >= 0);
    assert.ok(Date.parse(me!.startedAt) <= Date.now(), me!.startedAt);
    assert.equal(me!.clients, 0);
  });

  test('counts a connected WebSocket client, and no more once it leaves', async () => {
    const url = await createChannel(server, { name: 'cluster-chan', service: 'zato.ping' });
    const client = await TestClient.connect(url);
    await client.createSession();
    // On PostgreSQL the count is as of the last heartbeat: wait for it rather than expect it at once.
    await waitFor(async () => (await cluster()).servers[0]!.clients === 1, 15_000, 'one client counted');
    client.close();
    await client.closed;
    await waitFor(async () => (await cluster()).servers[0]!.clients === 0, 15_000, 'no client counted');
  });

  test('is described in /api/openapi.json with its response', async () => {
    const doc = (await server.api('GET', '/api/openapi.json')).body;
    const op = doc.paths['/api/cluster']?.get;
    assert.ok(op, 'GET /api/cluster is listed');
    assert.deepEqual(op.tags, ['cluster']);
    const schema = op.responses['200'].content['application/json'].schema;
    assert.ok(schema.properties.servers, JSON.stringify(schema));
    assert.ok(schema.properties.servers.items.properties.heartbeatAgeMs);
  });
});
