// An outgoing connection's subscriptionList: each message published on the remote invokes the MESSAGE hook once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Service, opaque, type WsxHookCtx } from '../src/index.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';
import {
  createChannel,
  dropTestDb,
  startTestServer,
  TEST_TOKEN as REMOTE_TOKEN,
  testDb,
  waitFor,
  type TestServer,
} from './helpers/server.js';

class OnRemoteMessage extends Service {
  static override serviceName = 'test.on-remote-message';
  static override io = { inputOptional: [opaque('ctx')] };
  static received: Array<{ msg_id: string; data: unknown; topic_name: string }> = [];
  handle(): void {
    const ctx = this.request.input.ctx as WsxHookCtx;
    if (ctx.type === 'message') OnRemoteMessage.received.push(ctx.data as { msg_id: string; data: unknown; topic_name: string });
  }
}

/** A MESSAGE hook that fails on `{ n: 1 }` the first two times it sees it (a database that is briefly down). */
class FlakyHook extends Service {
  static override serviceName = 'test.flaky-hook';
  static override io = { inputOptional: [opaque('ctx')] };
  static received: number[] = [];
  static failures = 0;
  handle(): void {
    const ctx = this.request.input.ctx as WsxHookCtx;
    if (ctx.type !== 'message') return;
    const n = (ctx.data as { data: { n: number } }).data.n;
    if (n === 1 && FlakyHook.failures < 2) {
      FlakyHook.failures++;
      throw new Error('storage unavailable');
    }
    FlakyHook.received.push(n);
  }
}

// Fails on message 1 only after a while, so that the frames behind it are read while its hook still runs.
class SlowFlakyHook extends Service {
  static override serviceName = 'test.slow-flaky-hook';
  static override io = { inputOptional: [opaque('ctx')] };
  static received: number[] = [];
  static failures = 0;
  async handle(): Promise<void> {
    const ctx = this.request.input.ctx as WsxHookCtx;
    if (ctx.type !== 'message') return;
    const n = (ctx.data as { data: { n: number } }).data.n;
    if (n === 1 && SlowFlakyHook.failures < 1) {
      SlowFlakyHook.failures++;
      await new Promise((r) => setTimeout(r, 300));
      throw new Error('storage unavailable');
    }
    SlowFlakyHook.received.push(n);
  }
}

let server: TestServer;
before(async () => {
  server = await startTestServer();
  server.registry.replaceSource('remote-sub-test', [
    { name: OnRemoteMessage.serviceName, cls: OnRemoteMessage },
    { name: FlakyHook.serviceName, cls: FlakyHook },
    { name: SlowFlakyHook.serviceName, cls: SlowFlakyHook },
  ]);
});
after(() => server.stop());

const publish = (data: unknown) =>
  server.api('POST', `/api/pubsub/topics/${encodeURIComponent('/remote/news')}/publish`, { data });

test('subscriptionList: every remote publication reaches the MESSAGE hook once, across reconnects', async () => {
  const url = await createChannel(server, { name: 'remote', service: 'helpers.web-sockets-gateway' });
  await server.api('POST', '/api/pubsub/topics', { name: '/remote/news' });
  const res = await server.api('POST', '/api/outgoing/wsx', {
    name: 'news-feed',
    address: url,
    isZato: true,
    subscriptionList: ['/remote/news'],
    onMessageService: 'test.on-remote-message',
    reconnect: { initial: 0.05, max: 0.2 },
  });
  assert.equal(res.status, 201);
  await waitFor(
    async () => (await server.pubsub.subscriptions()).some((s) => s.topicName === '/remote/news'),
    3000,
    'the remote subscription',
  );

  for (let i = 0; i < 5; i++) await publish({ n: i });
  await waitFor(() => OnRemoteMessage.received.length >= 5, 3000, 'five hook calls');
  assert.deepEqual(
    OnRemoteMessage.received.map((m) => (m.data as { n: number }).n),
    [0, 1, 2, 3, 4],
  );
  assert.ok(OnRemoteMessage.received.every((m) => m.topic_name === '/remote/news' && /^zpsm/.test(m.msg_id)));

  // Cut the connection from the remote's side; what is published meanwhile arrives after the reconnect.
  const handle = server.channelManager.channel('remote');
  const ours = handle.clients().find((c) => c.extClientName === 'switchboard:news-feed')!;
  await handle.disconnect(ours.pubClientId);
  for (let i = 5; i < 8; i++) await publish({ n: i });
  await waitFor(() => OnRemoteMessage.received.length >= 8, 5000, 'messages published while disconnected');
  await new Promise((r) => setTimeout(r, 200));
  const ns = OnRemoteMessage.received.map((m) => (m.data as { n: number }).n);
  assert.deepEqual(ns, [0, 1, 2, 3, 4, 5, 6, 7], 'each exactly once, in order');
  assert.equal(
    (await server.pubsub.subscriptions()).filter((s) => s.topicName === '/remote/news').length,
    1,
    'resumed, not re-subscribed',
  );

  // Deleting the connection ends the remote subscription too.
  await server.api('DELETE', '/api/outgoing/wsx/news-feed');
  await waitFor(
    async () => !(await server.pubsub.subscriptions()).some((s) => s.topicName === '/remote/news'),
    3000,
    'unsubscribed',
  );
});

/** Subscribes an outgoing connection to a remote topic with `hook` as its MESSAGE hook, publishes n = 0..3 there. */
async function publishThroughHook(name: string, hook: { serviceName: string; received: number[] }): Promise<void> {
  const topic = `/remote/${name}`;
  const url = await createChannel(server, { name: `${name}-remote`, service: 'helpers.web-sockets-gateway' });
  await server.api('POST', '/api/pubsub/topics', { name: topic });
  await server.api('POST', '/api/outgoing/wsx', {
    name: `${name}-feed`,
    address: url,
    isZato: true,
    subscriptionList: [topic],
    onMessageService: hook.serviceName,
    reconnect: { initial: 0.05, max: 0.2 },
  });
  await waitFor(
    async () => (await server.pubsub.subscriptions()).some((s) => s.topicName === topic),
    3000,
    'the remote subscription',
  );
  for (let n = 0; n < 4; n++)
    await server.api('POST', `/api/pubsub/topics/${encodeURIComponent(topic)}/publish`, { data: { n } });
  await waitFor(() => hook.received.length >= 4, 5000, 'all four handed on');
  await new Promise((r) => setTimeout(r, 300));
}

test('a MESSAGE hook that fails leaves the message unacknowledged: it comes again, in order, and is handed on once', async () => {
  await publishThroughHook('flaky', FlakyHook);
  assert.equal(FlakyHook.failures, 2);
  assert.deepEqual(FlakyHook.received, [0, 1, 2, 3], 'each once, in order, the failed one included');
  await waitFor(
    async () => (await server.pubsub.subscriptions()).find((s) => s.topicName === '/remote/flaky')!.queueDepth === 0,
    3000,
    'all acknowledged',
  );
  await server.api('DELETE', '/api/outgoing/wsx/flaky-feed');
});

test('a MESSAGE hook that fails after a while: the frames read meanwhile wait their turn, and order is kept', async () => {
  await publishThroughHook('slow-flaky', SlowFlakyHook);
  assert.equal(SlowFlakyHook.failures, 1);
  assert.deepEqual(SlowFlakyHook.received, [0, 1, 2, 3], 'each once, in order, the failed one included');
  await server.api('DELETE', '/api/outgoing/wsx/slow-flaky-feed');
});

test('remote subscriptions survive a restart of this server: what the remote published meanwhile arrives, in order, once', async () => {
  // The remote is `server`; the local server restarts on the same data directory, with its hook as a service file.
  const url = await createChannel(server, { name: 'restart-remote', service: 'helpers.web-sockets-gateway' });
  await server.api('POST', '/api/pubsub/topics', { name: '/remote/orders' });
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-restart-'));
  await mkdir(join(dir, 'services'));
  await writeFile(
    join(dir, 'services', 'collect.ts'),
    `import { Service, opaque } from 'switchboard';
export default class Collect extends Service {
  static override serviceName = 'test.collect-orders';
  static override io = { inputOptional: [opaque('ctx')] };
  handle(): void {
    const ctx = this.request.input.ctx as { type: string; data: { data: { n: number } } };
    const g = globalThis as unknown as { __collected?: number[] };
    if (ctx.type === 'message') (g.__collected ??= []).push(ctx.data.data.n);
  }
}
`,
  );
  const collected = () => (globalThis as unknown as { __collected?: number[] }).__collected ?? [];
  const publish = (n: number) =>
    server.api('POST', `/api/pubsub/topics/${encodeURIComponent('/remote/orders')}/publish`, { data: { n } });
  const remoteSubs = async () => (await server.pubsub.subscriptions()).filter((s) => s.topicName === '/remote/orders');

  const first = await startServer(
    { dataDir: dir, servicesDir: join(dir, 'services'), adminPort: 0, adminToken: REMOTE_TOKEN, demo: false, ...testDb(dir) },
    silentLogger(),
  );
  // Both servers are closed however the test ends: one left open would keep this file's process from exiting.
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const created = await fetch(`${first.adminUrl}/api/outgoing/wsx`, {
      method: 'POST',
      headers: { authorization: `Bearer ${REMOTE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'orders-feed',
        address: url,
        isZato: true,
        subscriptionList: ['/remote/orders'],
        onMessageService: 'test.collect-orders',
      }),
    });
    assert.equal(created.status, 201);
    await waitFor(async () => (await remoteSubs()).length === 1, 3000, 'the remote subscription');
    const subKey = (await remoteSubs())[0]!.subKey;
    for (let n = 0; n < 3; n++) await publish(n);
    await waitFor(() => collected().length >= 3, 3000, 'three before the restart');

    await first.close();
    assert.equal((await remoteSubs()).length, 1, 'a shutdown does not unsubscribe');
    for (let n = 3; n < 6; n++) await publish(n);

    second = await startServer(
      { dataDir: dir, servicesDir: join(dir, 'services'), adminPort: 0, adminToken: REMOTE_TOKEN, demo: false, ...testDb(dir) },
      silentLogger(),
    );
    await waitFor(() => collected().length >= 6, 5000, 'the messages published while this server was down');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(collected(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(
      (await remoteSubs()).map((s) => s.subKey),
      [subKey],
      'resumed with the stored sub_key, not subscribed anew',
    );
    // Deleting the connection ends the remote subscription.
    await fetch(`${second.adminUrl}/api/outgoing/wsx/orders-feed`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${REMOTE_TOKEN}` },
    });
    await waitFor(async () => (await remoteSubs()).length === 0, 3000, 'unsubscribed on delete');
  } finally {
    await first.close();
    await second?.close();
    await rm(dir, { recursive: true, force: true });
    await dropTestDb(dir);
  }
});
