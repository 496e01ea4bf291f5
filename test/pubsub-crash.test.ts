// kill -9 of the server during GD publishes, five times: every message acknowledged to a publisher must be
// delivered after the restart. Duplicates (a message delivered again because its acknowledgement was lost in the
// crash) are allowed and reported, as is the restart-to-ready time, but every message delivered again must say so
// (`delivery_count` ≥ 2). A second test kills the server while subscribers receive.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient } from './helpers/wsx-client.js';
import { receiver as receive, unflaggedRedeliveries, type Seen } from './helpers/pubsub-load.js';
import { dropTestDb, freePort, testDbEnv } from './helpers/server.js';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'server', 'main.js');
const CYCLES = 5;
const PER_CYCLE = 10_000;
const PUBLISHERS = 4;
const WINDOW = 8;
const TOPIC = '/crash/test';

interface Server {
  child: ChildProcess;
  readyMs: number;
}

let dir: string;
let adminPort: number;
let channelPort: number;
const dirs: string[] = [];
// Every server started: each test leaves its last one running, and a live child keeps this process from exiting.
const children = new Set<ChildProcess>();

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const d of dirs) {
    await rm(d, { recursive: true, force: true });
    await dropTestDb(d);
  }
});

/** A fresh data directory and ports for the next server. */
async function freshServer(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-crash-'));
  dirs.push(dir);
  [adminPort, channelPort] = [await freePort(), await freePort()];
}

async function start(): Promise<Server> {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dir,
      SWITCHBOARD_SERVICES_DIR: join(dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: String(adminPort),
      SWITCHBOARD_DEMO_PORT: String(channelPort),
      SWITCHBOARD_ADMIN_TOKEN: 'crash-test-admin-token-0123',
      SWITCHBOARD_LOG_LEVEL: 'silent',
      ...testDbEnv(dir),
    },
    stdio: 'ignore',
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${adminPort}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, readyMs: Math.round(performance.now() - started) };
}

function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${adminPort}${path}`, {
    method,
    headers: { authorization: 'Bearer crash-test-admin-token-0123', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

const channelUrl = () => `ws://127.0.0.1:${channelPort}/demo`;

/** Publishes until the server dies (or `quota` is reached); returns the ids the server acknowledged. */
async function publishUntilKilled(cycle: number, child: ChildProcess, killAfter: number): Promise<Set<string>> {
  const acked = new Set<string>();
  let issued = 0;
  let killed = false;
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHERS }, async () => {
      const c = await TestClient.connect(channelUrl());
      await c.createSession();
      return c;
    }),
  );
  await Promise.all(
    publishers.flatMap((c) =>
      Array.from({ length: WINDOW }, async () => {
        while (!killed && issued < PER_CYCLE) {
          const id = `${cycle}-${issued++}`;
          try {
            const reply = await c.gateway('zato.pubsub.pubapi.publish-message', {
              topic_name: TOPIC,
              data: { id },
              has_gd: true,
            });
            if (reply.meta.status !== 200) throw new Error(`publish failed: ${JSON.stringify(reply.meta)}`);
            acked.add(id);
          } catch (err) {
            if (killed) return;
            throw err;
          }
          if (!killed && acked.size >= killAfter) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      }),
    ),
  );
  for (const c of publishers) c.ws.terminate();
  await new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', () => resolve()),
  );
  return acked;
}

/** Resumes the subscription and receives (acknowledging) until its queue is empty; returns every id seen. */
async function drain(subKey: string): Promise<Seen[]> {
  const sub = await TestClient.connect(channelUrl());
  await sub.createSession({ client_id: 'crash-subscriber' });
  const resumed = await sub.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey });
  assert.equal(resumed.meta.status, 200, JSON.stringify(resumed));
  let remaining = resumed.data.current_depth as number;
  const seen: Seen[] = [];
  while (remaining > 0) {
    const frame = await sub.next(10_000);
    if (frame.meta.msg_type !== 'zwsx.psrq') continue;
    const batch = Array.isArray(frame.data) ? frame.data : [frame.data];
    for (const m of batch) seen.push({ id: m.data.id, count: m.delivery_count });
    remaining -= batch.length;
    sub.send({
      meta: { action: 'client-response', id: `ack-${seen.length}`, token: sub.token, in_reply_to: frame.meta.id },
      data: {},
    });
  }
  // Let the last acknowledgements commit, then leave.
  await new Promise((r) => setTimeout(r, 100));
  sub.close();
  await sub.closed;
  return seen;
}

test(`kill -9 during ${PER_CYCLE} GD publishes, ${CYCLES} times: every acknowledged message is delivered after restart`, async (t) => {
  await freshServer();
  let server = await start();
  assert.equal((await api('POST', '/api/pubsub/topics', { name: TOPIC, maxDepthGd: 1_000_000 })).status, 201);
  const subscriber = await TestClient.connect(channelUrl());
  await subscriber.createSession({ client_id: 'crash-subscriber' });
  const subscribed = await subscriber.gateway('zato.pubsub.pubapi.subscribe-wsx', {
    topic_name: TOPIC,
    unsub_on_wsx_close: false,
    ack_mode: 'client',
    delivery_batch_size: 200,
  });
  const subKey = subscribed.data.sub_key as string;
  subscriber.close();
  await subscriber.closed;

  const everSeen = new Set<string>();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const killAfter = Math.floor(PER_CYCLE * (0.3 + 0.4 * Math.random()));
    const acked = await publishUntilKilled(cycle, server.child, killAfter);
    server = await start();
    const delivered = await drain(subKey);
    assert.deepEqual(unflaggedRedeliveries(everSeen, delivered), [], `cycle ${cycle + 1}: redelivered with delivery_count 1`);
    const seen = delivered.map((m) => m.id);
    for (const id of seen) everSeen.add(id);
    const unique = new Set(seen);
    const lost = [...acked].filter((id) => !unique.has(id));
    const duplicates = seen.length - unique.size;
    const committedNotAcked = [...unique].filter((id) => id.startsWith(`${cycle}-`) && !acked.has(id)).length;
    t.diagnostic(
      `cycle ${cycle + 1}: ${acked.size} acknowledged before kill -9, ${unique.size} delivered after restart ` +
        `(${committedNotAcked} committed but not yet acknowledged to the publisher), ${duplicates} duplicates, ` +
        `restart to ready ${server.readyMs} ms`,
    );
    assert.deepEqual(lost, [], `cycle ${cycle + 1}: acknowledged messages lost`);
  }
});

const RECEIVE_MESSAGES = 4000;

/** Subscribes `clientId` (kept across disconnects) and records every delivered message as it arrives. */
function receiver(clientId: string, ackMode: 'write' | 'client', subKey?: string) {
  return receive(channelUrl(), { clientId, ackMode, subKey, topic: TOPIC, batchSize: 1 });
}

test('kill -9 while subscribers receive, 3 times: every message delivered again comes with delivery_count ≥ 2 (ack_mode write and client)', async (t) => {
  await freshServer();
  let server = await start();
  assert.equal(
    (await api('POST', '/api/pubsub/topics', { name: TOPIC, maxDepthGd: 1_000_000, subMaxDepthGd: 1_000_000 })).status,
    201,
  );
  const modes = ['write', 'client'] as const;
  const subs = new Map<string, { subKey: string; everSeen: Set<string> }>();
  for (const mode of modes) {
    const r = await receiver(`recv-${mode}`, mode);
    subs.set(mode, { subKey: r.subKey, everSeen: new Set() });
    r.client.ws.terminate();
  }
  // The messages wait while the subscribers are away, then go out one per frame (delivery_batch_size 1).
  const pub = await TestClient.connect(channelUrl());
  await pub.createSession();
  await Promise.all(
    Array.from({ length: WINDOW }, async (_, w) => {
      for (let i = w; i < RECEIVE_MESSAGES; i += WINDOW) {
        const reply = await pub.gateway('zato.pubsub.pubapi.publish-message', {
          topic_name: TOPIC,
          data: { id: `m-${i}` },
          has_gd: true,
        });
        assert.equal(reply.meta.status, 200);
      }
    }),
  );
  pub.ws.terminate();
  for (let cycle = 0; cycle < 3; cycle++) {
    const receivers = await Promise.all(modes.map((mode) => receiver(`recv-${mode}`, mode, subs.get(mode)!.subKey)));
    // Kill while deliveries are in full flow.
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
    server.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      server.child.exitCode !== null || server.child.signalCode ? resolve() : server.child.once('exit', () => resolve()),
    );
    await Promise.all(receivers.map((r) => r.client.closed));
    modes.forEach((mode, i) => {
      const { everSeen } = subs.get(mode)!;
      const bad = unflaggedRedeliveries(everSeen, receivers[i]!.seen);
      t.diagnostic(
        `cycle ${cycle + 1}, ack_mode ${mode}: ${receivers[i]!.seen.length} received before kill -9, ${receivers[i]!.seen.filter((m) => everSeen.has(m.id)).length} of them again`,
      );
      assert.deepEqual(bad, [], `cycle ${cycle + 1}, ack_mode ${mode}: redelivered with delivery_count 1`);
      for (const m of receivers[i]!.seen) everSeen.add(m.id);
    });
    server = await start();
  }
});
