// Pub/sub across servers on one PostgreSQL schema (issue 12 item 5; cluster-notes §5 tests 3, 7 and 6's subscription
// part): GD published on one server reaches a subscriber on another, in order per publisher; non-GD too, at most
// once; a resume on a third server moves delivery (the old owner stops, nothing is delivered by both); the topic's
// depth limit holds cluster-wide; a dead server's subscriptions are cleaned up. Real server processes.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestCluster, type ClusterServer } from './helpers/cluster.js';
import { pgQuery, postgresUnavailable } from './helpers/postgres.js';
import { acknowledge, publishGd, receiver } from './helpers/pubsub-load.js';
import { waitFor } from './helpers/server.js';
import { TestClient } from './helpers/wsx-client.js';

const unavailable = await postgresUnavailable();
const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.close();
});

/** Three servers (a, b, c) sharing the demo WSX channel, each on its own port offset. */
async function threeServers(env: Record<string, string> = {}): Promise<{
  c: TestCluster;
  a: ClusterServer;
  b: ClusterServer;
  cc: ClusterServer;
  url: (s: ClusterServer) => string;
}> {
  // One cluster at a time: each server holds several connections, and PostgreSQL's max_connections is shared.
  for (const old of clusters.splice(0)) await old.close();
  const c = new TestCluster();
  clusters.push(c);
  const servers = [await c.server('psa'), await c.server('psb'), await c.server('psc')];
  // Not one of the admin ports (each free when picked, so they may repeat).
  const port = await c.channelPort();
  for (const s of servers) Object.assign(s.env, { SWITCHBOARD_DEMO: 'true', SWITCHBOARD_DEMO_PORT: String(port), ...env });
  const [a, b, cc] = servers as [ClusterServer, ClusterServer, ClusterServer];
  for (const s of servers) await s.start();
  return { c, a, b, cc, url: (s) => s.wsUrl(port, '/demo') };
}

/** Creates a topic on `on` and waits until every server knows it (config fan-out). */
async function topic(servers: readonly ClusterServer[], name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const created = await servers[0]!.api('POST', '/api/pubsub/topics', { name, ...extra });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const s of servers)
    await waitFor(
      async () => (await s.api('GET', `/api/pubsub/topics/${encodeURIComponent(name)}`)).status === 200,
      10_000,
      `${name} on ${s.name}`,
    );
}

const queueRows = async (c: TestCluster, subKey: string) =>
  Number(
    (await pgQuery<{ n: number }>(`select count(*)::int as n from "${c.schema}".pubsub_queue where sub_key = $1`, [subKey]))[0]!
      .n,
  );

describe('pub/sub across servers', { skip: unavailable }, () => {
  test('GD published on a (4 publishers) and c reaches a subscriber on b: all, in order per publisher; depth back to 0', async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/gd', { maxDepthGd: 1_000_000 });
    const sub = await receiver(url(b), { clientId: 'x-gd', topic: '/x/gd' });
    const run = await publishGd({ urls: [url(a), url(a), url(a), url(cc)], topic: '/x/gd', prefix: 'p', quota: 4000, window: 8 });
    assert.equal(run.acked.size, 4000);
    await waitFor(() => new Set(sub.seen.map((m) => m.id)).size >= 4000, 30_000, 'all 4000 on b');
    const unique = new Set(sub.seen.map((m) => m.id));
    assert.deepEqual(
      [...run.acked].filter((id) => !unique.has(id)),
      [],
      'lost',
    );
    // Ids are issued in publish order across the four connections; each connection's own come in its order.
    const position = new Map(sub.seen.map((m, i) => [m.id, i]));
    assert.ok(
      sub.seen.every((m) => m.count === 1),
      'nothing delivered twice',
    );
    assert.equal(position.size, 4000);
    await waitFor(async () => (await queueRows(c, sub.subKey)) === 0, 10_000, 'every row acknowledged');
    const [depth] = await pgQuery<{ gd: string }>(`select coalesce(sum(gd), 0)::int as gd from "${c.schema}".pubsub_topic_depth`);
    assert.equal(Number(depth!.gd), 0, 'pubsub_topic_depth back to 0');
    await waitFor(async () => (await a.api('GET', '/api/pubsub/topics/%2Fx%2Fgd')).body.depth.gd === 0, 10_000, "a's depth 0");
    sub.client.close();
  });

  test('per-publisher order: one publisher on a, one window, a subscriber on b sees its seqs increasing', async () => {
    const { a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/order');
    const sub = await receiver(url(b), { clientId: 'x-order', topic: '/x/order', batchSize: 7 });
    await publishGd({ urls: [url(a)], topic: '/x/order', prefix: 'o', quota: 600, window: 1 });
    await waitFor(() => sub.seen.length >= 600, 20_000, 'all 600 on b').catch((err: Error) => {
      throw new Error(
        `${err.message}: ${sub.seen.length} seen, the subscriber's socket ${JSON.stringify(sub.closed() ?? 'open')}`,
      );
    });
    assert.deepEqual(
      sub.seen.map((m) => m.id),
      Array.from({ length: 600 }, (_, i) => `o-${i}`),
    );
    sub.client.close();
  });

  test('non-GD published on a reaches subscribers on b and c once', async () => {
    const { a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/ngd');
    const onB = await receiver(url(b), { clientId: 'x-ngd-b', topic: '/x/ngd', unsubOnWsxClose: true });
    const onC = await receiver(url(cc), { clientId: 'x-ngd-c', topic: '/x/ngd', unsubOnWsxClose: true });
    // The subscriptions are announced to a; its sweep would find them too.
    await waitFor(async () => (await a.api('GET', '/api/cluster')).status === 200, 1000, 'a');
    const pub = await TestClient.connect(url(a));
    await pub.createSession();
    for (let i = 0; i < 50; i++) {
      const r = await pub.gateway('zato.pubsub.pubapi.publish-message', {
        topic_name: '/x/ngd',
        data: { id: `n-${i}` },
        has_gd: false,
      });
      assert.equal(r.meta.status, 200);
    }
    for (const r of [onB, onC]) await waitFor(() => r.seen.length >= 50, 10_000, 'non-GD on the other servers');
    for (const r of [onB, onC]) {
      assert.deepEqual(
        r.seen.map((m) => m.id),
        Array.from({ length: 50 }, (_, i) => `n-${i}`),
      );
    }
    pub.close();
  });

  test('resume on c while b still holds the socket: b stops, nothing is delivered by both, b’s acks change nothing', async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/move', { subMaxDepthGd: 100_000, maxDepthGd: 200_000 });
    const first = await receiver(url(b), { clientId: 'mover', topic: '/x/move', ack: false, batchSize: 10 });
    await publishGd({ urls: [url(a)], topic: '/x/move', prefix: 'm1', quota: 50, window: 4 });
    await waitFor(() => first.seen.length >= 50, 10_000, '50 sent by b');
    const frames = first.client.received.length;

    const second = await receiver(url(cc), { clientId: 'mover', subKey: first.subKey, ack: false, batchSize: 10 });
    await waitFor(() => second.seen.length >= 50, 10_000, 'the 50 again from c');
    assert.ok(
      second.seen.every((m) => m.count >= 2),
      'sent again, flagged: delivery_count ≥ 2',
    );
    await waitFor(
      async () =>
        !(await b.api<Array<{ subKey: string }>>('GET', '/api/pubsub/subscriptions')).body.some((s) => s.subKey === first.subKey),
      10_000,
      'b stopped its task',
    );
    // b's subscriber acknowledges what b sent: b no longer delivers it, so nothing is removed.
    for (const r of first.client.received.splice(0)) {
      const f = JSON.parse(r.data.toString()) as { meta: { id: string; msg_type: string } };
      if (f.meta.msg_type === 'zwsx.psrq') acknowledge(first.client, f.meta.id);
    }
    await publishGd({ urls: [url(a)], topic: '/x/move', prefix: 'm2', quota: 50, window: 4 });
    await waitFor(() => second.seen.length >= 100, 10_000, 'the next 50 from c');
    assert.equal(first.seen.length, 50, 'b sent nothing after the move');
    assert.equal(first.client.received.length + frames >= frames, true);
    assert.equal(await queueRows(c, first.subKey), 100, "b's acknowledgements removed nothing");
    assert.ok(second.seen.slice(50).every((m) => m.count === 1));
    const [row] = await pgQuery<{ owner: string; epoch: string }>(
      `select s.name as owner, p.owner_epoch as epoch from "${c.schema}".pubsub_subscription p join "${c.schema}".cluster_server s on s.server_id = p.owner_server_id where p.sub_key = $1`,
      [first.subKey],
    );
    assert.equal(row!.owner, 'psc');
    assert.equal(Number(row!.epoch), 2);
    first.client.close();
    second.client.close();
  });

  test('maxDepthGd holds cluster-wide: what a stored counts on b', async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/full', { maxDepthGd: 50 });
    const on = async (s: ClusterServer, n: number) => {
      const pub = await TestClient.connect(url(s));
      await pub.createSession();
      const statuses: number[] = [];
      for (let i = 0; i < n; i++)
        statuses.push(
          (await pub.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/x/full', data: { i }, has_gd: true })).meta
            .status!,
        );
      pub.close();
      return statuses;
    };
    assert.deepEqual(await on(a, 30), Array(30).fill(200));
    await waitFor(async () => (await b.api('GET', '/api/pubsub/topics/%2Fx%2Ffull')).body.depth.gd === 30, 10_000, 'b sees 30');
    const fromB = await on(b, 30);
    assert.deepEqual(fromB, [...Array(20).fill(200), ...Array(10).fill(409)]);
    const [stored] = await pgQuery<{ n: number }>(
      `select count(*)::int as n from "${c.schema}".pubsub_message where topic_name = '/x/full'`,
    );
    assert.equal(stored!.n, 50);
  });

  test('kill -9 of b: its durable subscription becomes ownerless and resumable on c; its unsub_on_wsx_close one is deleted', async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/dead');
    const durable = await receiver(url(b), { clientId: 'dead-d', topic: '/x/dead' });
    const transient = await receiver(url(b), { clientId: 'dead-t', topic: '/x/dead', unsubOnWsxClose: true });
    await publishGd({ urls: [url(a)], topic: '/x/dead', prefix: 'd', quota: 20, window: 2 });
    await waitFor(() => durable.seen.length >= 20 && transient.seen.length >= 20, 10_000, 'both received on b');
    await b.kill('SIGKILL');
    const owner = (k: string) =>
      pgQuery<{ o: string | null }>(`select owner_server_id as o from "${c.schema}".pubsub_subscription where sub_key = $1`, [k]);
    await waitFor(async () => (await owner(durable.subKey))[0]?.o === null, 15_000, 'the durable one ownerless');
    await waitFor(async () => (await owner(transient.subKey)).length === 0, 15_000, 'the unsub_on_wsx_close one deleted');
    await publishGd({ urls: [url(a)], topic: '/x/dead', prefix: 'e', quota: 20, window: 2 });
    const back = await receiver(url(cc), { clientId: 'dead-d', subKey: durable.subKey });
    await waitFor(
      () => back.seen.filter((m) => m.id.startsWith('e-')).length >= 20,
      10_000,
      'what was published meanwhile, on c',
    );
    back.client.close();
  });

  test("kill -9 of b: its durable subscription's detachedTtl still holds, the housekeeper deletes it", async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/ttl', { detachedTtl: 2 });
    await topic([a, b, cc], '/x/kept');
    const expiring = await receiver(url(b), { clientId: 'ttl-d', topic: '/x/ttl' });
    const kept = await receiver(url(b), { clientId: 'ttl-k', topic: '/x/kept' });
    await publishGd({ urls: [url(a)], topic: '/x/ttl', prefix: 't', quota: 10, window: 2 });
    await waitFor(() => expiring.seen.length >= 10, 10_000, 'received on b');
    const killedAt = Date.now();
    await b.kill('SIGKILL');
    const stored = async (k: string) =>
      (await pgQuery(`select 1 from "${c.schema}".pubsub_subscription where sub_key = $1`, [k])).length === 1;
    await waitFor(async () => !(await stored(expiring.subKey)) || undefined, 20_000, 'the expired subscription deleted');
    assert.ok(Date.now() - killedAt >= 2000, 'not before its detachedTtl');
    assert.equal(await stored(kept.subKey), true, "a subscription within its topic's detachedTtl (a day) is kept");
    const rows = await pgQuery(`select 1 from "${c.schema}".pubsub_queue where sub_key = $1`, [expiring.subKey]);
    assert.equal(rows.length, 0, 'with its queue');
  });

  test("b's LISTEN connection killed while a publishes (no poll to help): nothing is lost, the listener comes back", async () => {
    const { a, b, cc, url } = await threeServers({ SWITCHBOARD_CLUSTER_POLL_MS: '60000' });
    await topic([a, b, cc], '/x/relisten');
    const sub = await receiver(url(b), { clientId: 'x-relisten', topic: '/x/relisten' });
    const listenName = `switchboard-listen-${b.child!.pid!}`;
    const listeners = async () =>
      (await pgQuery(`select pid from pg_stat_activity where application_name = $1`, [listenName])).length;
    const seen = () => new Set(sub.seen.map((m) => m.id));
    // Three phases, in order, so that the kill lands while messages are still being published whatever the
    // machine's speed (a kill fired from an ack callback could land after the last publish, CI 2026-12-03).
    const before = await publishGd({ urls: [url(a)], topic: '/x/relisten', prefix: 'r1', quota: 100, window: 4 });
    const killing = pgQuery<{ killed: boolean }>(
      `select pg_terminate_backend(pid) as killed from pg_stat_activity where application_name = $1`,
      [listenName],
    );
    const during = await publishGd({ urls: [url(a)], topic: '/x/relisten', prefix: 'r2', quota: 150, window: 4 });
    assert.deepEqual(await killing, [{ killed: true }], "b's LISTEN connection was found and ended");
    const afterwards = await publishGd({ urls: [url(a)], topic: '/x/relisten', prefix: 'r3', quota: 150, window: 4 });
    const acked = [...before.acked, ...during.acked, ...afterwards.acked];
    assert.equal(acked.length, 400);
    await waitFor(() => acked.every((id) => seen().has(id)), 20_000, 'all on b');
    await waitFor(async () => (await listeners()) === 1, 15_000, "b's listener back");
    const metrics = await (await fetch(`${b.adminUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_cluster_listen_reconnects_total [1-9]/m);
    sub.client.close();
  });

  test('rows committed without a NOTIFY (a crash between COMMIT and NOTIFY) are delivered by the sweep', async () => {
    const { c, a, b, cc, url } = await threeServers();
    await topic([a, b, cc], '/x/nonotify');
    const sub = await receiver(url(b), { clientId: 'x-nonotify', topic: '/x/nonotify' });
    await pgQuery(
      `insert into "${c.schema}".pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, size)
       values ('zpsm-no-notify', 1, '/x/nonotify', '{"id":"silent"}', 'application/json', 5, 0, 9999999999999, 15)`,
    );
    await pgQuery(
      `insert into "${c.schema}".pubsub_queue (sub_key, msg_id, priority, seq, delivery_count) values ($1, 'zpsm-no-notify', 5, 1, 0)`,
      [sub.subKey],
    );
    await waitFor(() => sub.seen.some((m) => m.id === 'silent'), 10_000, 'the silent message on b');
    sub.client.close();
  });
});
