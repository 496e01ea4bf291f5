// One subscription's delivery task against a real store and an in-process target that records frames.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushTarget } from '../src/channels/wsx/index.js';
import { silentLogger } from '../src/observability/index.js';
import { normalizeTopic } from '../src/pubsub/index.js';
import { DeliveryTask } from '../src/pubsub/delivery-task.js';
import { buildMessage } from '../src/pubsub/message.js';
import type { AckMode, Subscription } from '../src/pubsub/index.js';
import { Store, createPubSubRepository } from '../src/store/index.js';
import { waitFor } from './helpers/server.js';

let dir: string;
let store: Store;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-delivery-'));
  store = await Store.open({ path: join(dir, 'db.sqlite') });
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A connection that takes every frame (and never backs up). */
function recordingTarget(): PushTarget & { frames: Array<{ meta: { id: string }; data: unknown }> } {
  const frames: Array<{ meta: { id: string }; data: unknown }> = [];
  return {
    frames,
    pubClientId: 'ws.test',
    isOpen: true,
    queuedBytes: 0,
    maxMessageSize: 1024 * 1024,
    securityName: null,
    push(frame: string | Buffer) {
      frames.push(JSON.parse(frame.toString()) as { meta: { id: string }; data: unknown });
      return true;
    },
    onDrain(callback: () => void) {
      setImmediate(callback);
    },
    close() {},
  } as unknown as PushTarget & { frames: Array<{ meta: { id: string }; data: unknown }> };
}

function task(ackMode: AckMode): DeliveryTask {
  const sub: Subscription = {
    subKey: `zpsk.wsx.${ackMode}`,
    topicName: '/t',
    channelName: 'c',
    extClientId: null,
    deliveryBatchSize: 10,
    wrapOneMsgInList: false,
    ackMode,
    unsubOnWsxClose: true,
    createdAt: new Date().toISOString(),
  };
  const events = { expired() {}, gdDeleted() {}, slowConsumer() {}, dropped() {}, stateChanged() {} };
  return new DeliveryTask(sub, { repository: createPubSubRepository(store), events, logger: silentLogger(), maxRam: 10_000 });
}

const topic = normalizeTopic({ name: '/t', hasGd: false });

test('ack_mode write keeps nothing per frame: thousands of batch frames leave no state behind', async () => {
  const t = task('write');
  const target = recordingTarget();
  await t.attach(target);
  for (let i = 0; i < 5000; i++) {
    t.pushRam(buildMessage(topic, { data: { i } }, i + 1, Date.now()));
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await waitFor(
    () => target.frames.reduce((n, f) => n + (Array.isArray(f.data) ? f.data.length : 1), 0) === 5000,
    5000,
    'all delivered',
  );
  assert.ok(
    target.frames.some((f) => Array.isArray(f.data)),
    'some frames were batches',
  );
  assert.equal(t.framesAwaitingAck, 0);
  assert.equal(t.ramDepth, 0);
  t.close();
});

test('ack_mode client remembers each batch frame until it is acknowledged', async () => {
  const t = task('client');
  const target = recordingTarget();
  await t.attach(target);
  for (let i = 0; i < 30; i++) t.pushRam(buildMessage(topic, { data: { i } }, i + 1, Date.now()));
  await waitFor(
    () => target.frames.reduce((n, f) => n + (Array.isArray(f.data) ? f.data.length : 1), 0) === 30,
    3000,
    'all delivered',
  );
  const batches = target.frames.filter((f) => Array.isArray(f.data));
  assert.equal(t.framesAwaitingAck, batches.length);
  for (const f of target.frames) assert.equal(await t.acknowledge(f.meta.id), true);
  assert.equal(t.framesAwaitingAck, 0);
  assert.equal(t.ramDepth, 0, 'acknowledged messages are gone');
  t.close();
});

test('non-GD messages go out by priority (9 first), then in publication order', async () => {
  const t = task('write');
  const priorities = [1, 9, 5, 9, 1, 5, 3];
  priorities.forEach((priority, i) => t.pushRam(buildMessage(topic, { data: { i }, priority }, i + 1, Date.now())));
  const target = recordingTarget();
  await t.attach(target);
  await waitFor(() => target.frames.length > 0 && t.ramDepth === 0, 3000, 'delivered');
  const items = target.frames.flatMap((f) => (Array.isArray(f.data) ? f.data : [f.data])) as Array<{
    data: { i: number };
    priority: number;
  }>;
  assert.deepEqual(
    items.map((m) => m.data.i),
    [1, 3, 2, 5, 6, 0, 4],
  );
  t.close();
});

test('expired non-GD messages are dropped and counted, never delivered', async () => {
  let expired = 0;
  const sub: Subscription = {
    subKey: 'zpsk.wsx.expiry',
    topicName: '/t',
    channelName: 'c',
    extClientId: null,
    deliveryBatchSize: 10,
    wrapOneMsgInList: false,
    ackMode: 'write',
    unsubOnWsxClose: true,
    createdAt: new Date().toISOString(),
  };
  const events = {
    expired: (_: string, n: number) => (expired += n),
    gdDeleted() {},
    slowConsumer() {},
    dropped() {},
    stateChanged() {},
  };
  const t = new DeliveryTask(sub, { repository: createPubSubRepository(store), events, logger: silentLogger(), maxRam: 10_000 });
  t.pushRam(buildMessage(topic, { data: 'gone', expiration: 1 }, 1, Date.now() - 10));
  t.pushRam(buildMessage(topic, { data: 'kept' }, 2, Date.now()));
  const target = recordingTarget();
  await t.attach(target);
  await waitFor(() => t.ramDepth === 0, 3000, 'delivered');
  const items = target.frames.flatMap((f) => (Array.isArray(f.data) ? f.data : [f.data])) as Array<{ data: string }>;
  assert.deepEqual(
    items.map((m) => m.data),
    ['kept'],
  );
  assert.equal(expired, 1);
  t.close();
});

test('a GD message committed while a read of the store is under way is delivered (no lost wake-up)', async () => {
  const repository = createPubSubRepository(store);
  const gdTopic = normalizeTopic({ name: '/t', hasGd: true });
  const sub: Subscription = {
    subKey: 'zpsk.wsx.race',
    topicName: '/t',
    channelName: 'c',
    extClientId: null,
    deliveryBatchSize: 10,
    wrapOneMsgInList: false,
    ackMode: 'write',
    unsubOnWsxClose: true,
    createdAt: new Date().toISOString(),
  };
  let raced = false;
  // The first read comes back empty; before it returns, a message is committed and the task told, as a publisher
  // on another database connection would.
  const racing = Object.create(repository) as typeof repository;
  racing.nextBatch = async (subKey, limit) => {
    const rows = await repository.nextBatch(subKey, limit);
    if (!raced) {
      raced = true;
      await repository.publish([buildMessage(gdTopic, { data: { late: true } }, 900_001, Date.now())], [subKey]);
      t.gdQueued();
    }
    return rows;
  };
  const events = { expired() {}, gdDeleted() {}, slowConsumer() {}, dropped() {}, stateChanged() {} };
  const t = new DeliveryTask(sub, { repository: racing, events, logger: silentLogger(), maxRam: 10_000 });
  const target = recordingTarget();
  await t.attach(target);
  await waitFor(() => target.frames.length === 1, 3000, 'the message committed during the read');
  assert.deepEqual((target.frames[0]!.data as { data: unknown }).data, { late: true });
  t.close();
});

test('a GD message published while an attach requeues goes out after the requeued ones, in order', async () => {
  const repository = createPubSubRepository(store);
  const gdTopic = normalizeTopic({ name: '/t', hasGd: true });
  const sub: Subscription = {
    subKey: 'zpsk.wsx.reattach',
    topicName: '/t',
    channelName: 'c',
    extClientId: null,
    deliveryBatchSize: 10,
    wrapOneMsgInList: false,
    ackMode: 'client',
    unsubOnWsxClose: true,
    createdAt: new Date().toISOString(),
  };
  const publish = (i: number) =>
    repository.publish([buildMessage(gdTopic, { data: { i } }, 800_000 + i, Date.now())], [sub.subKey]);
  // The second attach's requeue: a publisher commits a message (and tells the task) before the requeue lands.
  let racing = false;
  const store2 = Object.create(repository) as typeof repository;
  store2.requeue = async (subKey) => {
    if (racing) {
      await publish(4);
      t.gdQueued();
      await new Promise((r) => setTimeout(r, 50));
    }
    return repository.requeue(subKey);
  };
  const events = { expired() {}, gdDeleted() {}, slowConsumer() {}, dropped() {}, stateChanged() {} };
  const t = new DeliveryTask(sub, { repository: store2, events, logger: silentLogger(), maxRam: 10_000 });
  const delivered = (target: ReturnType<typeof recordingTarget>) =>
    target.frames.flatMap((f) => (Array.isArray(f.data) ? f.data : [f.data])).map((m) => (m as { data: { i: number } }).data.i);

  for (const i of [1, 2, 3]) await publish(i);
  const first = recordingTarget();
  await t.attach(first);
  t.gdQueued();
  await waitFor(() => delivered(first).length === 3, 3000, 'the first three, unacknowledged');
  t.detach();

  racing = true;
  const second = recordingTarget();
  await t.attach(second);
  await waitFor(() => delivered(second).length === 4, 3000, 'all four after the reattach');
  assert.deepEqual(delivered(second), [1, 2, 3, 4], 'the requeued ones first, then the one published meanwhile');
  t.close();
});
