// kill -9 across servers (issue 12 item 5 faults; cluster-notes §5 tests 4 and 5). Three servers on one PostgreSQL
// schema, publishers on a and c, the subscriber on b. Five times, b is killed at a random moment while GD messages
// are published: the subscriber resumes on c, and every message acknowledged to a publisher is delivered, a
// redelivery always flagged by delivery_count ≥ 2; b restarts and the subscriber moves back before the next cycle.
// Then the publishers' server is killed: they go on through c, and every acknowledged publish is delivered.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TestCluster, type ClusterServer } from './helpers/cluster.js';
import { pgQuery, postgresUnavailable } from './helpers/postgres.js';
import { publishGd, receiver, unflaggedRedeliveries, type Receiver } from './helpers/pubsub-load.js';
import { waitFor } from './helpers/server.js';

const unavailable = await postgresUnavailable();
const CYCLES = 5;
const PER_CYCLE = 4000;
const TOPIC = '/crash/cluster';
const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.close();
});

async function threeServers(): Promise<{ c: TestCluster; servers: ClusterServer[]; url: (s: ClusterServer) => string }> {
  // One cluster at a time: each server holds several connections, and PostgreSQL's max_connections is shared.
  for (const old of clusters.splice(0)) await old.close();
  const c = new TestCluster();
  clusters.push(c);
  const servers = [await c.server('ka'), await c.server('kb'), await c.server('kc')];
  const port = await c.channelPort();
  for (const s of servers) Object.assign(s.env, { SWITCHBOARD_DEMO: 'true', SWITCHBOARD_DEMO_PORT: String(port) });
  for (const s of servers) await s.start();
  const created = await servers[0]!.api('POST', '/api/pubsub/topics', {
    name: TOPIC,
    maxDepthGd: 1_000_000,
    subMaxDepthGd: 1_000_000,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  for (const s of servers)
    await waitFor(
      async () => (await s.api('GET', `/api/pubsub/topics/${encodeURIComponent(TOPIC)}`)).status === 200,
      10_000,
      'topic',
    );
  return { c, servers, url: (s) => s.wsUrl(port, '/demo') };
}

/** Waits until the receivers together have seen every id of `ids`; returns the missing ones if it times out. */
async function seenAll(rs: readonly Receiver[], ids: ReadonlySet<string>, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set(rs.flatMap((r) => r.seen.map((m) => m.id)));
    const missing = [...ids].filter((id) => !seen.has(id));
    if (!missing.length || Date.now() > deadline) return missing;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('kill -9 across servers', { skip: unavailable }, () => {
  test(`kill -9 of the subscriber's server during ${CYCLES * PER_CYCLE} GD publishes, ${CYCLES} times: all delivered after a resume elsewhere`, async (t) => {
    const { c, servers, url } = await threeServers();
    const [a, b, cc] = servers as [ClusterServer, ClusterServer, ClusterServer];
    let sub = await receiver(url(b), { clientId: 'crash-sub', topic: TOPIC, batchSize: 200 });
    const subKey = sub.subKey;
    const everSeen = new Set<string>();
    let redeliveries = 0;
    let published = 0;
    let publishMs = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const killAt = Math.floor(PER_CYCLE * (0.3 + 0.4 * Math.random()));
      let killed: Promise<void> | undefined;
      let killedAt = 0;
      const started = performance.now();
      const onB = sub;
      const run = await publishGd({
        urls: [url(a), url(a), url(cc), url(cc)],
        topic: TOPIC,
        prefix: `c${cycle}`,
        quota: PER_CYCLE,
        window: 8,
        onAck: (n) => {
          if (n < killAt || killed) return;
          killedAt = performance.now();
          killed = b.kill('SIGKILL').then(async () => {
            const moved = await receiver(url(cc), { clientId: 'crash-sub', subKey, batchSize: 200 });
            sub = moved;
          });
        },
      });
      publishMs += performance.now() - started;
      published += run.acked.size;
      await killed;
      const onC = sub;
      const missing = await seenAll([onB, onC], run.acked);
      // What b delivered before it died, then what c delivered: every id seen before must come flagged.
      const cycleSeen = [...onB.seen, ...onC.seen];
      assert.deepEqual(unflaggedRedeliveries(everSeen, cycleSeen), [], `cycle ${cycle + 1}: redelivered with delivery_count 1`);
      for (const m of cycleSeen) {
        if (everSeen.has(m.id)) redeliveries++;
        everSeen.add(m.id);
      }
      const resumeMs = Math.round((onC.firstAt() ?? killedAt) - killedAt);
      t.diagnostic(
        `cycle ${cycle + 1}: ${run.acked.size} acknowledged, kill -9 of b after ${killAt}, first delivery on c ${resumeMs} ms after the kill, ` +
          `${missing.length} missing`,
      );
      if (missing.length) t.diagnostic(`missing: ${JSON.stringify(await whereAre(c, subKey, missing.slice(0, 10)))}`);
      assert.deepEqual(missing.slice(0, 10), [], `cycle ${cycle + 1}: acknowledged messages lost`);
      // Back to b for the next cycle (a clean move, by resume).
      await b.start();
      onC.client.close();
      await onC.client.closed;
      sub = await receiver(url(b), { clientId: 'crash-sub', subKey, batchSize: 200 });
      await waitFor(async () => (await queueRows(c, subKey)) === 0, 30_000, 'the queue worked off');
    }
    t.diagnostic(
      `${published} publishes acknowledged at ${Math.round(published / (publishMs / 1000))}/s over the cycles, ${redeliveries} redeliveries (all flagged)`,
    );
    assert.ok(published >= CYCLES * PER_CYCLE - CYCLES * 64, `${published} publishes`);
    sub.client.close();
  });

  test("kill -9 of the publishers' server: they go on through c; every acknowledged publish is delivered", async (t) => {
    const { c, servers, url } = await threeServers();
    const [a, b, cc] = servers as [ClusterServer, ClusterServer, ClusterServer];
    const sub = await receiver(url(b), { clientId: 'pub-crash-sub', topic: TOPIC, batchSize: 200 });
    let killing = false;
    const run = await publishGd({
      urls: [url(a), url(a)],
      topic: TOPIC,
      prefix: 'k',
      quota: 4000,
      window: 8,
      onAck: (n) => {
        if (n < 1500 || killing) return;
        killing = true;
        void a.kill('SIGKILL');
      },
      reconnect: () => url(cc),
    });
    const missing = await seenAll([sub], run.acked);
    if (missing.length)
      t.diagnostic(
        `missing ${missing.length}: ${JSON.stringify({ where: await whereAre(c, sub.subKey, missing.slice(0, 10)), subscriberSocket: sub.closed() ?? 'open' })}`,
      );
    const seen = new Set(sub.seen.map((m) => m.id));
    const storedUnanswered = [...run.unanswered].filter((id) => seen.has(id)).length;
    t.diagnostic(
      `${run.acked.size} acknowledged, ${run.unanswered.size} unanswered at the kill (${storedUnanswered} of them delivered anyway)`,
    );
    assert.deepEqual(missing.slice(0, 10), [], 'acknowledged messages lost');
    assert.ok(run.acked.size > 3000, `${run.acked.size} acknowledged`);
    sub.client.close();
  });
});

async function queueRows(c: TestCluster, subKey: string): Promise<number> {
  const rows = await pgQuery<{ n: number }>(`select count(*)::int as n from "${c.schema}".pubsub_queue where sub_key = $1`, [
    subKey,
  ]);
  return Number(rows[0]!.n);
}

/** Where missing messages are: stored or not, queued for the subscription or not, sent or not. */
async function whereAre(c: TestCluster, subKey: string, ids: readonly string[]): Promise<unknown> {
  return {
    rows: await pgQuery(
      `select m.data, m.seq, q.delivered, q.delivery_count from "${c.schema}".pubsub_message m
         left join "${c.schema}".pubsub_queue q on q.msg_id = m.msg_id and q.sub_key = $1
        where m.data = any($2::text[])`,
      [subKey, ids.map((id) => JSON.stringify({ id }))],
    ),
    subscription: await pgQuery(
      `select owner_server_id, owner_epoch, suspended, detached_at from "${c.schema}".pubsub_subscription where sub_key = $1`,
      [subKey],
    ),
    servers: await pgQuery(`select server_id, name from "${c.schema}".cluster_server`),
  };
}
