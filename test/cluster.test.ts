// Several servers on one PostgreSQL schema act as one (issue 12 items 2 and 3): membership, housekeeping, fencing,
// config fan-out. Real server processes, the machine's PostgreSQL; cluster-notes.md §5 tests 1, 6, 10 and 11.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ClusterDescription } from '../src/cluster/index.js';
import { TestCluster, type ClusterServer } from './helpers/cluster.js';
import { pgQuery, postgresUnavailable } from './helpers/postgres.js';
import { waitFor } from './helpers/server.js';

const unavailable = await postgresUnavailable();
const clusters: TestCluster[] = [];
// Each test's servers go when it ends: a dozen live servers hold about as many PostgreSQL connections each.
afterEach(async () => {
  while (clusters.length) await clusters.pop()!.close();
});

async function cluster(): Promise<TestCluster> {
  const c = new TestCluster();
  clusters.push(c);
  return c;
}

async function describeFrom(server: ClusterServer): Promise<ClusterDescription> {
  const res = await server.api<ClusterDescription>('GET', '/api/cluster');
  assert.equal(res.status, 200);
  return res.body;
}

/** Resolves with the close code once a WebSocket to `url` opens and then closes; rejects if it cannot open. */
function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function accepts(url: string): Promise<boolean> {
  try {
    const ws = await openSocket(url);
    ws.close();
    return true;
  } catch {
    return false;
  }
}

const names = (d: ClusterDescription) => d.servers.map((s) => s.name);

describe('a cluster of servers on one PostgreSQL schema', { skip: unavailable }, () => {
  test('three servers starting at once on an empty schema migrate it once and see each other, one housekeeping', async () => {
    const c = await cluster();
    const servers = await Promise.all(['a', 'b', 'c'].map((n) => c.server(n)));
    await Promise.all(servers.map((s) => s.start()));
    const migrations = await pgQuery<{ n: string }>(`select count(*)::int as n from "${c.schema}".kysely_migration`);
    const distinct = await pgQuery<{ n: string }>(`select count(distinct name)::int as n from "${c.schema}".kysely_migration`);
    assert.equal(migrations[0]!.n, distinct[0]!.n, 'a migration was recorded twice');
    for (const s of servers) {
      const d = await waitFor(
        async () => {
          const seen = await describeFrom(s);
          return seen.servers.length === 3 && seen.housekeeper !== null ? seen : undefined;
        },
        10_000,
        `${s.name} sees three servers and a housekeeper`,
      );
      assert.deepEqual(names(d), ['a', 'b', 'c']);
      assert.equal(d.clustered, true);
      assert.equal(d.database, 'postgres');
      assert.equal(d.self, s.name);
      assert.deepEqual(
        d.servers.filter((x) => x.self).map((x) => x.name),
        [s.name],
      );
      assert.equal(d.servers.filter((x) => x.housekeeping).length, 1, 'exactly one housekeeper');
      for (const x of d.servers)
        assert.ok(x.heartbeatAgeMs >= 0 && x.pid > 0 && x.serverId.startsWith('srv.'), JSON.stringify(x));
    }
    const housekeepers = new Set(await Promise.all(servers.map(async (s) => (await describeFrom(s)).housekeeper)));
    assert.equal(housekeepers.size, 1, 'every server names the same housekeeper');
  });

  test('a second live server with a taken name is refused; after kill -9 the name is free at once', async () => {
    const c = await cluster();
    const a = await (await c.server('same')).start();
    const twin = await c.server('same');
    await assert.rejects(twin.start(), /server_name_taken|named same/);
    await a.kill('SIGKILL');
    // The session holding the name lock died with the process: the restart takes the name and replaces the old row.
    await a.start();
    const d = await describeFrom(a);
    assert.deepEqual(names(d), ['same']);
    assert.equal(d.servers[0]!.self, true);
  });

  test('kill -9 of the housekeeper: another server takes the role and reaps the dead one', async () => {
    const c = await cluster();
    const servers = await Promise.all(['h1', 'h2', 'h3'].map((n) => c.server(n)));
    for (const s of servers) await s.start();
    const first = await waitFor(async () => (await describeFrom(servers[2]!)).housekeeper, 10_000, 'a housekeeper');
    const holder = servers.find((s) => s.name === first)!;
    await holder.kill('SIGKILL');
    const rest = servers.filter((s) => s !== holder);
    const d = await waitFor(
      async () => {
        const seen = await describeFrom(rest[0]!);
        return seen.housekeeper && seen.housekeeper !== first && !names(seen).includes(first) ? seen : undefined;
      },
      15_000,
      'a new housekeeper and the dead one reaped',
    );
    assert.deepEqual(names(d), rest.map((s) => s.name).sort());
    assert.equal((await describeFrom(rest[1]!)).housekeeper, d.housekeeper);
  });

  test('a server reaped while alive is fenced: its clients are closed with 1012 and it registers again', async () => {
    const c = await cluster();
    const a = await (await c.server('fa')).start();
    const b = await (await c.server('fb')).start();
    const port = await c.channelPort();
    const created = await a.api('POST', '/api/channels/wsx', {
      name: 'plain',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      address: `ws://127.0.0.1:${port}/p`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = b.wsUrl(port, '/p');
    await waitFor(() => accepts(url), 10_000, 'the channel on b');
    const ws = await openSocket(url);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // What the housekeeper does to a server whose heartbeats stopped, done here to a live one.
    await pgQuery(`delete from "${c.schema}".cluster_server where name = 'fb'`);
    assert.equal(await closed, 1012);
    const d = await waitFor(
      async () => {
        const seen = await describeFrom(a);
        return names(seen).includes('fb') ? seen : undefined;
      },
      10_000,
      'fb registered again',
    );
    assert.deepEqual(names(d), ['fa', 'fb']);
  });
});

describe('config fan-out', { skip: unavailable }, () => {
  // With the poll at 60 s, a change can only arrive in time through NOTIFY, or through the catch-up that follows a
  // re-LISTEN: what each case proves.
  const noPoll = { SWITCHBOARD_CLUSTER_POLL_MS: '60000' };

  test('a channel created, changed and deleted on one server is applied by every server (NOTIFY)', async () => {
    const c = await cluster();
    const servers = await Promise.all(['ca', 'cb', 'cc'].map((n) => c.server(n, noPoll)));
    for (const s of servers) await s.start();
    const [a, b, cc] = servers as [ClusterServer, ClusterServer, ClusterServer];
    const port = await c.channelPort();
    const channel = { name: 'fan', service: 'zato.helpers.echo', protocol: 'plain', address: `ws://127.0.0.1:${port}/one` };
    assert.equal((await a.api('POST', '/api/channels/wsx', channel)).status, 201);
    for (const s of servers) await waitFor(() => accepts(s.wsUrl(port, '/one')), 10_000, `the new channel on ${s.name}`);

    assert.equal(
      (await b.api('PUT', '/api/channels/wsx/fan', { ...channel, address: `ws://127.0.0.1:${port}/two` })).status,
      200,
    );
    for (const s of servers) await waitFor(() => accepts(s.wsUrl(port, '/two')), 10_000, `the changed path on ${s.name}`);
    assert.equal((await a.api('GET', '/api/channels/wsx/fan')).body.address, `ws://127.0.0.1:${port}/two`);

    assert.equal((await cc.api('DELETE', '/api/channels/wsx/fan')).status, 200);
    for (const s of servers) await waitFor(async () => !(await accepts(s.wsUrl(port, '/two'))), 10_000, `deleted on ${s.name}`);
  });

  test("a rename, and a topic deactivated on one server, are applied by every other server's live objects", async () => {
    const c = await cluster();
    const a = await (await c.server('ra', noPoll)).start();
    const b = await (await c.server('rb', noPoll)).start();
    const port = await c.channelPort();
    await createPlain(a, 'old', `ws://127.0.0.1:${port}/old`);
    await waitFor(() => accepts(b.wsUrl(port, '/old')), 10_000, 'the channel on b');
    const renamed = await a.api('PUT', '/api/channels/wsx/old', {
      name: 'new',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      address: `ws://127.0.0.1:${port}/new`,
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    await waitFor(() => accepts(b.wsUrl(port, '/new')), 10_000, 'the renamed channel on b');
    assert.equal(await accepts(b.wsUrl(port, '/old')), false, 'b still serves the old path');
    assert.equal((await b.api('GET', '/api/channels/wsx/new')).body.runtime?.state, 'listening');

    // b caches a topic once it publishes to it: the deactivation made on a must reach that cache.
    assert.equal((await a.api('POST', '/api/pubsub/topics', { name: '/t' })).status, 201);
    const publish = () => b.api('POST', '/api/pubsub/topics/%2Ft/publish', { data: 'x' });
    await waitFor(async () => (await publish()).status === 200 || (await publish()).status === 201, 10_000, 'publish on b');
    assert.equal((await a.api('PUT', '/api/pubsub/topics/%2Ft', { name: '/t', isActive: false })).status, 200);
    await waitFor(async () => (await publish()).body?.error?.code === 'topic_inactive', 10_000, 'topic inactive on b');
  });

  test("a change made while a server's LISTEN connection is down reaches it: the re-LISTEN compares everything", async () => {
    const c = await cluster();
    const a = await (await c.server('la', noPoll)).start();
    const b = await (await c.server('lb', noPoll)).start();
    const port = await c.channelPort();
    await createPlain(a, 'first', `ws://127.0.0.1:${port}/f`);
    await waitFor(() => accepts(b.wsUrl(port, '/f')), 10_000, 'the first channel on b');
    // A change whose NOTIFY b cannot hear (it was sent while b's listener was down, or never), then b's listener
    // killed: only the catch-up after its re-LISTEN can apply it before the 60 s poll.
    await writeWithoutNotify(c, 'first', 'second', `ws://127.0.0.1:${port}/s`);
    const killed = await pgQuery(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1`, [
      `switchboard-listen-${b.child!.pid!}`,
    ]);
    assert.equal(killed.length, 1, "b's LISTEN connection was not found");
    await waitFor(() => accepts(b.wsUrl(port, '/s')), 15_000, 'the channel on b after its listener came back');
    const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_cluster_listen_reconnects_total 1$/m);
    assert.match(metrics, /^switchboard_cluster_config_changes_applied_total 2$/m);
  });

  test('a stored body that is not JSON is reported and skipped: the changes after it still apply', async () => {
    const c = await cluster();
    const a = await (await c.server('ja')).start();
    const b = await (await c.server('jb')).start();
    await pgQuery(
      `insert into "${c.schema}".config_object (kind, name, body, version, created_at, updated_at)
       values ('outgoing', 'broken', '{not json', 1, '2026-12-02T00:00:00Z', '2026-12-02T00:00:00Z')`,
    );
    await pgQuery(`insert into "${c.schema}".config_change (kind, name, op) values ('outgoing', 'broken', 'create')`);
    const port = await c.channelPort();
    await createPlain(a, 'after', `ws://127.0.0.1:${port}/a`);
    await waitFor(() => accepts(b.wsUrl(port, '/a')), 10_000, 'the change after the broken one on b').catch((err: unknown) => {
      throw new Error(`${String(err)}; b said: ${b.output}`);
    });
    assert.match(b.output, /not JSON/);
  });

  test('a change whose NOTIFY never came (a crash between COMMIT and NOTIFY) is applied by the poll', async () => {
    const c = await cluster();
    const a = await (await c.server('pa')).start();
    const b = await (await c.server('pb')).start();
    const port = await c.channelPort();
    await createPlain(a, 'first', `ws://127.0.0.1:${port}/f`);
    await writeWithoutNotify(c, 'first', 'second', `ws://127.0.0.1:${port}/s`);
    for (const s of [a, b]) await waitFor(() => accepts(s.wsUrl(port, '/s')), 10_000, `the polled channel on ${s.name}`);
  });
});

async function createPlain(server: ClusterServer, name: string, address: string): Promise<void> {
  const created = await server.api('POST', '/api/channels/wsx', {
    name,
    service: 'zato.helpers.echo',
    protocol: 'plain',
    address,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

/** What a writer that died between its COMMIT and its NOTIFY leaves: a copy of channel `from` as `to`, no NOTIFY. */
async function writeWithoutNotify(c: TestCluster, from: string, to: string, address: string): Promise<void> {
  const [stored] = await pgQuery<{ body: string }>(
    `select body from "${c.schema}".config_object where kind = 'channel' and name = $1`,
    [from],
  );
  const body = JSON.stringify({ ...JSON.parse(stored!.body), name: to, address });
  await pgQuery(
    `insert into "${c.schema}".config_object (kind, name, body, version, created_at, updated_at)
     values ('channel', $1, $2, 1, '2026-12-02T00:00:00Z', '2026-12-02T00:00:00Z')`,
    [to, body],
  );
  await pgQuery(`insert into "${c.schema}".config_change (kind, name, op) values ('channel', $1, 'create')`, [to]);
}
