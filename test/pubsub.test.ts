import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from '../src/index.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';
import { TestClient, type Frame } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

/** Publishes from a service: `this.pubsub.publish`. */
class Announcer extends Service {
  static override serviceName = 'test.announce';
  async handle(): Promise<void> {
    const { topic, data } = this.request.payload as { topic: string; data: unknown };
    this.response.payload = { msgId: await this.pubsub.publish(topic, data, { priority: 7 }) };
  }
}

let server: TestServer;
let url: string;
// A channel that takes frames of up to 4 MiB, for subscribers of messages over the default 1 MiB.
let bigUrl: string;

before(async () => {
  server = await startTestServer();
  server.registry.replaceSource('pubsub-test', [{ name: Announcer.serviceName, cls: Announcer }]);
  url = await createChannel(server, { name: 'ps', service: 'helpers.web-sockets-gateway', gatewayServices: ['test.*'] });
  bigUrl = await createChannel(
    server,
    { name: 'ps-big', service: 'helpers.web-sockets-gateway', maxMessageSize: 4 * 1024 * 1024 },
    '/big',
  );
});
after(() => server.stop());

async function topic(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await server.api('POST', '/api/pubsub/topics', { name, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function client(clientId?: string, channelUrl = url): Promise<TestClient> {
  const c = await TestClient.connect(channelUrl);
  await c.createSession(clientId ? { client_id: clientId } : {});
  return c;
}

async function subscribe(c: TestClient, topicName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const reply = await c.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: topicName, ...extra });
  assert.equal(reply.meta.status, 200, JSON.stringify(reply));
  return reply.data.sub_key;
}

async function publish(c: TestClient, topicName: string, data: unknown, extra: Record<string, unknown> = {}): Promise<Frame> {
  return c.gateway('zato.pubsub.pubapi.publish-message', { topic_name: topicName, data, ...extra });
}

/** The next pub/sub delivery frame (skipping replies). */
async function delivery(c: TestClient, timeoutMs = 3000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await c.next(Math.max(1, deadline - Date.now()));
    if (frame.meta.msg_type === 'zwsx.psrq') return frame;
  }
}

/** The messages of a delivery frame: one, or a list (a batch; the default `delivery_batch_size` is Zato's 500). */
function messagesOf(frame: Frame): Frame['data'][] {
  return Array.isArray(frame.data) ? frame.data : [frame.data];
}

/** The frames that deliver the next `count` messages, each as the list of its messages. */
async function deliveredFrames(c: TestClient, count: number, timeoutMs = 3000): Promise<Frame['data'][][]> {
  const frames: Frame['data'][][] = [];
  for (let got = 0; got < count;) {
    const messages = messagesOf(await delivery(c, timeoutMs));
    frames.push(messages);
    got += messages.length;
  }
  return frames;
}

/** The next `count` delivered messages, however the server grouped them into frames. */
async function deliveredMessages(c: TestClient, count: number, timeoutMs = 3000): Promise<Frame['data'][]> {
  return (await deliveredFrames(c, count, timeoutMs)).flat();
}

const enc = (name: string) => encodeURIComponent(name);

describe('publish and subscribe over WSX', () => {
  test('a subscriber receives what a publisher publishes, in zwsx.psrq frames with Zato’s fields', async () => {
    await topic('/orders/new');
    const sub = await client('sub-1');
    const subKey = await subscribe(sub, '/orders/new');
    assert.match(subKey, /^zpsk\.wsx\.[0-9a-f]{24}$/);
    const pub = await client('pub-1');
    const published = await publish(pub, '/orders/new', { order: 1 }, { correl_id: 'c-1', priority: 6 });
    assert.equal(published.meta.status, 200);
    assert.match(published.data.msg_id, /^zpsm[0-9a-f]{24}$/);
    const frame = await delivery(sub);
    assert.equal(frame.meta.id, published.data.msg_id);
    assert.deepEqual(frame.data.data, { order: 1 });
    assert.equal(frame.data.topic_name, '/orders/new');
    assert.equal(frame.data.sub_key, subKey);
    assert.equal(frame.data.delivery_count, 1);
    assert.equal(frame.data.priority, 6);
    assert.equal(frame.data.correl_id, 'c-1');
    assert.equal(frame.data.ext_client_id, 'pub-1');
    assert.equal(frame.data.mime_type, 'application/json');
    assert.ok(frame.data.pub_time_iso && frame.data.expiration_time_iso);
    assert.equal(frame.data.size, JSON.stringify({ order: 1 }).length);
    sub.close();
    pub.close();
  });

  test('services publish with this.pubsub.publish; the admin API publishes and browses', async () => {
    await topic('/svc');
    const sub = await client();
    await subscribe(sub, '/svc');
    const res = await server.api('POST', '/api/services/test.announce/invoke', {
      request: { topic: '/svc', data: 'from a service' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const frame = await delivery(sub);
    assert.equal(frame.data.data, 'from a service');
    assert.equal(frame.data.priority, 7);
    const viaApi = await server.api('POST', `/api/pubsub/topics/${enc('/svc')}/publish`, { data: { n: 2 } });
    assert.equal(viaApi.status, 201);
    assert.deepEqual((await delivery(sub)).data.data, { n: 2 });
    sub.close();
  });

  test('subscribing twice returns the same sub_key', async () => {
    await topic('/twice');
    const c = await client();
    assert.equal(await subscribe(c, '/twice'), await subscribe(c, '/twice'));
    c.close();
  });

  test('delivery order is priority, then publication time; batches come as lists', async () => {
    await topic('/ordered');
    const sub = await client('orderly');
    const subKey = await subscribe(sub, '/ordered', { unsub_on_wsx_close: false, delivery_batch_size: 3 });
    sub.ws.terminate();
    await sub.closed;
    const pub = await client();
    for (const [data, priority] of [
      ['a', 1],
      ['b', 9],
      ['c', 5],
      ['d', 9],
      ['e', 1],
    ] as const) {
      assert.equal((await publish(pub, '/ordered', data, { priority })).meta.status, 200);
    }
    const again = await client('orderly');
    const resumed = await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey });
    assert.equal(resumed.meta.status, 200);
    const first = await delivery(again);
    const second = await delivery(again);
    assert.ok(Array.isArray(first.data));
    assert.deepEqual(
      [...first.data, ...second.data].map((m: { data: string }) => m.data),
      ['b', 'd', 'c', 'a', 'e'],
    );
    again.close();
    pub.close();
  });

  for (const hasGd of [true, false]) {
    test(`a batch frame carries at most 1 MiB of data (a bigger message goes alone), whatever delivery_batch_size says (${hasGd ? 'GD' : 'non-GD'})`, async () => {
      const name = `/bulky/${hasGd ? 'gd' : 'ram'}`;
      await topic(name, { hasGd, maxMessageSize: 2 * 1024 * 1024 });
      const sub = await client(`bulky-sub-${hasGd}`, bigUrl);
      const subKey = await subscribe(sub, name, { unsub_on_wsx_close: false });
      sub.ws.terminate();
      await sub.closed;
      // Until the server has seen the close, a non-GD message may still go to the dead socket and be lost (it is not
      // guaranteed delivery): publish once the subscription is detached.
      await waitFor(
        async () => (await server.api('GET', `/api/pubsub/subscriptions/${subKey}`)).body.pubClientId === null,
        3000,
        'the server to see the subscriber gone',
      );
      const kb = (n: number) => 'b'.repeat(n * 1024);
      const sizes = [400, 400, 400, 1500, 1];
      for (const [i, n] of sizes.entries()) await server.pubsub.publish(name, { data: { i, pad: kb(n) } });
      const again = await client(`bulky-sub-${hasGd}`, bigUrl);
      assert.equal((await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey })).meta.status, 200);
      const frames = (await deliveredFrames(again, sizes.length, 10_000)).map((messages) => messages.map((m) => m.data.i));
      assert.deepEqual(frames, [[0, 1], [2], [3], [4]]);
      again.close();
    });
  }

  test('by default (Zato’s delivery_batch_size 500) what waits goes out as one list; delivery_batch_size 1 sends one per frame', async () => {
    await topic('/backlog');
    const batched = await client('backlog-batched');
    const batchedKey = await subscribe(batched, '/backlog', { unsub_on_wsx_close: false });
    const single = await client('backlog-single');
    const singleKey = await subscribe(single, '/backlog', { unsub_on_wsx_close: false, delivery_batch_size: 1 });
    for (const c of [batched, single]) {
      c.ws.terminate();
      await c.closed;
    }
    const pub = await client();
    for (let i = 0; i < 7; i++) assert.equal((await publish(pub, '/backlog', i)).meta.status, 200);

    const batchedAgain = await client('backlog-batched');
    assert.equal((await batchedAgain.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: batchedKey })).meta.status, 200);
    const frame = await delivery(batchedAgain);
    assert.ok(Array.isArray(frame.data), 'a list frame');
    assert.deepEqual(
      frame.data.map((m: { data: number }) => m.data),
      [0, 1, 2, 3, 4, 5, 6],
    );

    const singleAgain = await client('backlog-single');
    assert.equal((await singleAgain.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: singleKey })).meta.status, 200);
    for (let i = 0; i < 7; i++) {
      const one = await delivery(singleAgain);
      assert.equal(Array.isArray(one.data), false);
      assert.equal(one.meta.id, one.data.msg_id, 'a single message’s frame id is its msg_id');
      assert.equal(one.data.data, i);
    }
    batchedAgain.close();
    singleAgain.close();
    pub.close();
  });

  test('ack_mode client: unacknowledged messages come again after resume, with delivery_count raised', async () => {
    await topic('/acked');
    const sub = await client('acker');
    const subKey = await subscribe(sub, '/acked', { unsub_on_wsx_close: false, ack_mode: 'client' });
    const pub = await client();
    await publish(pub, '/acked', 'm1');
    await publish(pub, '/acked', 'm2');
    const m1 = await delivery(sub);
    const m2 = await delivery(sub);
    assert.deepEqual([m1.data.data, m2.data.data], ['m1', 'm2']);
    // Acknowledge m1 only, then drop the connection before acknowledging m2.
    sub.send({
      meta: { action: 'client-response', id: 'ack1', token: sub.token, in_reply_to: m1.meta.id },
      data: { response: 'ok' },
    });
    await server.pubsub.drain();
    await waitFor(
      async () => (await server.pubsub.subscriptions()).find((s) => s.subKey === subKey)?.queueDepth === 1,
      2000,
      'm1 acknowledged',
    );
    sub.ws.terminate();
    await sub.closed;
    const again = await client('acker');
    await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey });
    const redelivered = await delivery(again);
    assert.equal(redelivered.data.data, 'm2');
    assert.equal(redelivered.data.delivery_count, 2);
    again.send({
      meta: { action: 'client-response', id: 'ack2', token: again.token, in_reply_to: redelivered.meta.id },
      data: {},
    });
    await waitFor(
      async () => (await server.pubsub.subscriptions()).find((s) => s.subKey === subKey)?.queueDepth === 0,
      2000,
      'm2 acknowledged',
    );
    again.close();
    pub.close();
  });

  test('GD messages survive a restart and are delivered on resume', async () => {
    const own = await startTestServer();
    const ownUrl = await createChannel(own, { name: 'ps', service: 'helpers.web-sockets-gateway' });
    await own.api('POST', '/api/pubsub/topics', { name: '/durable' });
    const sub = await TestClient.connect(ownUrl);
    await sub.createSession({ client_id: 'durable-sub' });
    const subKey = (await sub.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/durable', unsub_on_wsx_close: false }))
      .data.sub_key;
    sub.ws.terminate();
    await sub.closed;
    for (let i = 0; i < 20; i++) await own.api('POST', `/api/pubsub/topics/${enc('/durable')}/publish`, { data: i });
    await own.close();
    const restarted = await startServer({ ...own.settings, adminPort: 0 }, silentLogger());
    try {
      const again = await TestClient.connect(ownUrl);
      await again.createSession({ client_id: 'durable-sub' });
      assert.equal((await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey })).data.current_depth, 20);
      const got = (await deliveredMessages(again, 20)).map((m) => m.data);
      assert.deepEqual(
        got,
        Array.from({ length: 20 }, (_, i) => i),
      );
      again.close();
    } finally {
      await restarted.close();
      await own.stop();
    }
  });

  test('non-GD messages are delivered from memory', async () => {
    await topic('/fast', { hasGd: false });
    const sub = await client();
    await subscribe(sub, '/fast');
    const pub = await client();
    await publish(pub, '/fast', 'quick');
    assert.equal((await delivery(sub)).data.data, 'quick');
    assert.equal((await server.api('GET', `/api/pubsub/topics/${enc('/fast')}/messages`)).body.length, 0, 'nothing stored');
    sub.close();
    pub.close();
  });
});

describe('pub/sub: bad input and faults', () => {
  test('publishing to an unknown topic → 404; to an inactive one → 409', async () => {
    const c = await client();
    const unknown = await publish(c, '/nowhere', 1);
    assert.equal(unknown.meta.status, 404);
    assert.equal(unknown.meta.code, 'topic_not_found');
    await topic('/off', { isActive: false });
    const inactive = await publish(c, '/off', 1);
    assert.equal(inactive.meta.status, 409);
    assert.equal(inactive.meta.code, 'topic_inactive');
    c.close();
  });

  test('invalid priority or expiration → 400 naming the field', async () => {
    await topic('/strict');
    const c = await client();
    for (const [extra, field] of [
      [{ priority: 0 }, 'priority'],
      [{ priority: 10 }, 'priority'],
      [{ priority: 'high' }, 'priority'],
      [{ expiration: -5 }, 'expiration'],
    ] as const) {
      const r = await publish(c, '/strict', 1, extra);
      assert.equal(r.meta.status, 400, JSON.stringify(extra));
      assert.match(r.meta.error_message!, new RegExp(field));
    }
    c.close();
  });

  test('over maxDepthGd → 409 topic_full and nothing is half-written', async () => {
    await topic('/small', { maxDepthGd: 3 });
    const c = await client();
    for (let i = 0; i < 3; i++) assert.equal((await publish(c, '/small', i)).meta.status, 200);
    const full = await publish(c, '/small', 'one too many');
    assert.equal(full.meta.status, 409);
    assert.equal(full.meta.code, 'topic_full');
    const stored = (await server.api('GET', `/api/pubsub/topics/${enc('/small')}/messages`)).body;
    assert.deepEqual(
      stored.map((m: { data: number }) => m.data),
      [0, 1, 2],
    );
    assert.equal((await server.api('GET', `/api/pubsub/topics/${enc('/small')}`)).body.depth.gd, 3);
    c.close();
  });

  test('unsubscribe someone else’s key → 403; resume an unknown key → 404; the owner can unsubscribe', async () => {
    await topic('/owned');
    const owner = await client('owner');
    const subKey = await subscribe(owner, '/owned');
    const thief = await client('thief');
    const stolen = await thief.gateway('zato.pubsub.pubapi.unsubscribe', { sub_key: subKey });
    assert.equal(stolen.meta.status, 403);
    assert.equal(stolen.meta.code, 'not_subscription_owner');
    const unknown = await thief.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: 'zpsk.wsx.nope' });
    assert.equal(unknown.meta.status, 404);
    assert.equal(unknown.meta.code, 'subscription_not_found');
    assert.equal((await owner.gateway('zato.pubsub.pubapi.unsubscribe', { sub_key: subKey })).meta.status, 200);
    owner.close();
    thief.close();
  });

  test('subscriptions with unsub_on_wsx_close (the default) end when the client disconnects', async () => {
    await topic('/ephemeral');
    const c = await client();
    const subKey = await subscribe(c, '/ephemeral');
    c.close();
    await waitFor(async () => !(await server.pubsub.subscriptions()).some((s) => s.subKey === subKey), 2000, 'unsubscribed');
  });

  test('expired messages are dropped and counted', async () => {
    await topic('/perishable');
    const c = await client('perishable');
    const subKey = await subscribe(c, '/perishable', { unsub_on_wsx_close: false });
    c.ws.terminate();
    await c.closed;
    const pub = await client();
    await publish(pub, '/perishable', 'stale', { expiration: 100 });
    await publish(pub, '/perishable', 'fresh');
    await new Promise((r) => setTimeout(r, 200));
    const again = await client('perishable');
    await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: subKey });
    assert.equal((await delivery(again)).data.data, 'fresh');
    await assert.rejects(delivery(again, 300));
    assert.ok((await server.api('GET', `/api/pubsub/topics/${enc('/perishable')}`)).body.depth.expired >= 1);
    again.close();
    pub.close();
  });

  test('a non-GD subscriber that stops reading is cut off with 4010 and others are unaffected', async () => {
    await topic('/firehose', { hasGd: false, maxDepthNonGd: 20 });
    const slow = await client();
    await subscribe(slow, '/firehose');
    const healthy = await client();
    await subscribe(healthy, '/firehose');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    let received = 0;
    const counting = (async () => {
      while (received < 200) received += messagesOf(await delivery(healthy, 10_000)).length;
    })();
    for (let i = 0; i < 200; i++) {
      await server.pubsub.publish('/firehose', { data: big });
      // Publishers arrive over the network; let deliveries run between publications as they would.
      if (i % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    await counting;
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.equal((await slow.closed).code, 4010);
    assert.equal(received, 200);
    healthy.close();
  });

  test('a GD subscriber that stops reading is paused, not cut off; nothing is lost and the others keep up', async () => {
    await topic('/gd-firehose', { maxDepthGd: 100_000 });
    const stalled = await client();
    await subscribe(stalled, '/gd-firehose');
    const healthy = await client();
    await subscribe(healthy, '/gd-firehose');
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'g'.repeat(64 * 1024);
    const count = 120;
    let healthyGot = 0;
    const counting = (async () => {
      while (healthyGot < count) healthyGot += messagesOf(await delivery(healthy, 10_000)).length;
    })();
    for (let i = 0; i < count; i++) await server.pubsub.publish('/gd-firehose', { data: { i, big } });
    await counting;
    assert.equal(healthyGot, count, 'the healthy subscriber got everything while the other was stalled');
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const got = (await deliveredMessages(stalled, count, 10_000)).map((m) => m.data.i);
    assert.deepEqual(
      got,
      Array.from({ length: count }, (_, i) => i),
      'all delivered, in order, once the reader resumed',
    );
    stalled.close();
    healthy.close();
  });

  test('admin API: topics CRUD with depth, subscriptions list and delete', async () => {
    const created = await server.api('POST', '/api/pubsub/topics', { name: '/admin/t', hasGd: true });
    assert.equal(created.body.maxDepthGd, 10000);
    assert.equal(created.body.depth.gd, 0);
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/admin/t' })).status, 409);
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: 'no-slash' })).status, 400);
    const c = await client();
    const subKey = await subscribe(c, '/admin/t');
    const listed = (await server.api('GET', '/api/pubsub/subscriptions')).body.find(
      (s: { subKey: string }) => s.subKey === subKey,
    );
    assert.equal(listed.topicName, '/admin/t');
    assert.ok(listed.pubClientId);
    assert.equal((await server.api('DELETE', `/api/pubsub/subscriptions/${subKey}`)).status, 200);
    assert.equal((await server.api('GET', `/api/pubsub/subscriptions/${subKey}`)).status, 404);
    assert.equal((await server.api('DELETE', `/api/pubsub/topics/${enc('/admin/t')}`)).status, 200);
    assert.equal((await server.api('GET', `/api/pubsub/topics/${enc('/admin/t')}`)).status, 404);
    c.close();
  });
});
