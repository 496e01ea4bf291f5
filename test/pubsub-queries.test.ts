// Every query the pub/sub code runs against the queue table is served by an index (issue 10, item 9): the SQL is
// recorded while real clients publish, receive, acknowledge, resume, expire and unsubscribe, then each statement
// is run through EXPLAIN QUERY PLAN with the parameters it ran with. Deterministic: no timings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

interface Ran {
  sql: string;
  args: unknown[];
}

const ran = new Map<string, Ran>();
// better-sqlite3 statements share one prototype: wrap its run methods to record what the server executes.
const probe = new SQLite(':memory:');
const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
probe.close();
const originals = new Map<string, (...args: unknown[]) => unknown>();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = proto[method]!;
  originals.set(method, original);
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    if (!ran.has(this.source)) ran.set(this.source, { sql: this.source, args });
    return original.apply(this, args);
  };
}

let server: TestServer;
let url: string;
before(async () => {
  server = await startTestServer();
  url = await createChannel(server, { name: 'q', service: 'helpers.web-sockets-gateway' });
});
after(async () => {
  for (const [method, original] of originals) proto[method] = original;
  await server.stop();
});

async function client(clientId: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  await c.createSession({ client_id: clientId });
  return c;
}

test('no query on pubsub_queue scans the table or sorts a backlog (EXPLAIN QUERY PLAN)', async () => {
  assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/q/t' })).status, 201);
  const acking = await client('q-acking');
  const ackKey = (
    await acking.gateway('zato.pubsub.pubapi.subscribe-wsx', {
      topic_name: '/q/t',
      ack_mode: 'client',
      unsub_on_wsx_close: false,
    })
  ).data.sub_key as string;
  const writing = await client('q-writing');
  const writeKey = (await writing.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/q/t' })).data.sub_key as string;
  let acked = 0;
  acking.ws.on('message', (raw: Buffer) => {
    const frame = JSON.parse(raw.toString()) as { meta: { id: string; msg_type: string }; data: unknown };
    if (frame.meta.msg_type !== 'zwsx.psrq') return;
    acked += Array.isArray(frame.data) ? frame.data.length : 1;
    acking.send({
      meta: { action: 'client-response', id: `ack-${acked}`, token: acking.token, in_reply_to: frame.meta.id },
      data: {},
    });
  });
  for (let i = 0; i < 20; i++)
    await acking.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/q/t', data: { i }, priority: 1 + (i % 9) });
  await waitFor(() => acked >= 20, 5000, 'acknowledged');
  // Resume after a reconnect (requeue), expiry, unsubscribe and the admin API's delete.
  acking.ws.terminate();
  await acking.closed;
  await writing.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/q/t', data: 'while away' });
  const back = await client('q-acking');
  await back.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/q/t', data: 'soon gone', expiration: 1 });
  assert.equal((await back.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: ackKey })).meta.status, 200);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await server.api('GET', `/api/pubsub/subscriptions/${ackKey}`)).status, 200);
  assert.equal((await writing.gateway('zato.pubsub.pubapi.unsubscribe', { sub_key: writeKey })).meta.status, 200);
  assert.equal((await server.api('DELETE', `/api/pubsub/subscriptions/${ackKey}`)).status, 200);
  await server.pubsub.drain();

  // The statements the code runs (not the migrations' DDL).
  const queueQueries = [...ran.values()].filter(
    (r) => /pubsub_queue/.test(r.sql) && /^\s*(select|insert|update|delete)\b/i.test(r.sql),
  );
  assert.ok(queueQueries.length >= 8, `recorded ${queueQueries.length} queue queries`);
  const db = new SQLite(join(server.dir, 'switchboard.db'));
  try {
    const bad: string[] = [];
    for (const q of queueQueries) {
      // Start-up counts (`group by`) read every row once, by design.
      if (/group by/i.test(q.sql)) continue;
      const plan = db.prepare(`explain query plan ${q.sql}`).all(...q.args) as Array<{ detail: string }>;
      const details = plan.map((p) => p.detail);
      const scansQueue = details.some((d) => /^SCAN (pubsub_queue|q)\b/.test(d));
      const sortsQueue = details.some((d) => /USE TEMP B-TREE/.test(d));
      if (scansQueue || sortsQueue) bad.push(`${q.sql}\n    ${details.join('\n    ')}`);
    }
    assert.deepEqual(bad, [], 'queries that scan or sort the queue');
  } finally {
    db.close();
  }
  back.close();
  writing.close();
});
