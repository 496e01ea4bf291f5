// Pub/sub's in-memory structures: the subscription registry, the topic depth counters, the FIFO ring buffer and
// the per-priority queues (issue 11 item 4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../src/pubsub/fifo.js';
import { PriorityQueues } from '../src/pubsub/priority-queues.js';
import { TopicDepths } from '../src/pubsub/depths.js';
import { SubscriptionRegistry } from '../src/pubsub/subscriptions.js';
import { freshQueued, RamQueue } from '../src/pubsub/ram-queue.js';
import { buildMessage } from '../src/pubsub/message.js';
import { normalizeTopic } from '../src/pubsub/index.js';
import { Overflow, type OverflowEvents } from '../src/pubsub/overflow.js';
import type { Subscription } from '../src/pubsub/subscription.js';
import { silentLogger } from '../src/observability/index.js';

const entry = (subKey: string, topicName: string) => ({ sub: { subKey, topicName } });

describe('SubscriptionRegistry', () => {
  test('indexes by sub_key, topic and attached client', () => {
    const reg = new SubscriptionRegistry<ReturnType<typeof entry>>();
    const a = entry('a', '/t1');
    const b = entry('b', '/t1');
    const c = entry('c', '/t2');
    for (const e of [a, b, c]) reg.add(e);
    reg.attach(a, 'ws.1');
    reg.attach(c, 'ws.1');
    reg.attach(b, 'ws.2');
    assert.equal(reg.size, 3);
    assert.equal(reg.get('b'), b);
    assert.deepEqual(reg.ofTopic('/t1'), [a, b]);
    assert.deepEqual(reg.ofClient('ws.1'), [a, c]);
    assert.equal(reg.find('/t2', 'ws.1'), c);
    assert.equal(reg.find('/t2', 'ws.2'), undefined);
    assert.deepEqual(reg.ofTopic('/none'), []);
  });

  test('attaching elsewhere moves a subscription to the new client; detach and remove unindex it', () => {
    const reg = new SubscriptionRegistry<ReturnType<typeof entry>>();
    const a = entry('a', '/t');
    reg.add(a);
    reg.attach(a, 'ws.old');
    reg.attach(a, 'ws.new');
    assert.deepEqual(reg.ofClient('ws.old'), []);
    assert.deepEqual(reg.ofClient('ws.new'), [a]);
    reg.detach(a);
    assert.deepEqual(reg.ofClient('ws.new'), []);
    assert.equal(reg.get('a'), a, 'a detached subscription stays registered');
    reg.attach(a, 'ws.new');
    assert.equal(reg.remove(a), true);
    assert.equal(reg.remove(a), false);
    assert.equal(reg.get('a'), undefined);
    assert.deepEqual(reg.ofTopic('/t'), []);
    assert.deepEqual(reg.ofClient('ws.new'), []);
  });

  test('the lists are copies: removing while walking one is safe', () => {
    const reg = new SubscriptionRegistry<ReturnType<typeof entry>>();
    const all = ['a', 'b', 'c'].map((k) => entry(k, '/t'));
    for (const e of all) reg.add(e);
    for (const e of reg.ofTopic('/t')) reg.remove(e);
    assert.equal(reg.size, 0);
  });
});

describe('TopicDepths', () => {
  test('add and subtract count GD messages and bytes, never below zero', () => {
    const d = new TopicDepths();
    d.load(new Map([['/t', { count: 2, bytes: 30 }]]));
    d.add('/t', 10);
    assert.equal(d.gd('/t'), 3);
    assert.equal(d.gdBytes('/t'), 40);
    d.subtract('/t', 1, 10);
    assert.deepEqual([d.gd('/t'), d.gdBytes('/t')], [2, 30]);
    d.subtract('/t', 5, 500);
    assert.deepEqual([d.gd('/t'), d.gdBytes('/t')], [0, 0]);
    d.subtract('/other', 1, 1);
    assert.deepEqual([d.gd('/other'), d.gdBytes('/other')], [0, 0]);
  });

  test('dropped, expired and last publication per topic; forget clears the stored counts', () => {
    const d = new TopicDepths();
    d.countDropped('/t', 2);
    d.countDropped('/t', 3);
    d.countExpired('/t', 4);
    d.published('/t', 1000);
    d.add('/t', 1);
    assert.equal(d.dropped.get('/t'), 5);
    assert.equal(d.expired('/t'), 4);
    assert.equal(d.lastPublished('/t'), 1000);
    d.forget('/t');
    assert.equal(d.gd('/t'), 0);
    assert.equal(d.dropped.get('/t'), 5, 'since-start counters stay');
  });
});

describe('Fifo', () => {
  test('push, shift and unshift across growth and wrap-around keep FIFO order', () => {
    const q = new Fifo<number>(2);
    const model: number[] = [];
    for (let i = 0; i < 1000; i++) {
      q.push(i);
      model.push(i);
      if (i % 3 === 0) assert.equal(q.shift(), model.shift());
      if (i % 7 === 0) {
        q.unshift(-i);
        model.unshift(-i);
      }
      assert.equal(q.size, model.length);
    }
    assert.deepEqual(q.toArray(), model);
    assert.equal(q.at(0), model[0]);
    assert.equal(q.last(), model[model.length - 1]);
    assert.equal(q.at(model.length), undefined);
  });

  test('retain keeps order and reports what it removed; clear empties', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 10; i++) q.push(i);
    q.shift();
    assert.equal(
      q.retain((x) => x % 2 === 0),
      5,
    );
    assert.deepEqual(q.toArray(), [2, 4, 6, 8]);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.shift(), undefined);
  });
});

describe('PriorityQueues', () => {
  const item = (priority: number, seq: number) => ({ priority, seq });
  const order = (q: PriorityQueues<ReturnType<typeof item>>) => q.toArray().map((x) => `${x.priority}:${x.seq}`);

  test('delivery order is priority (9 first), then seq, without sorting', () => {
    const q = new PriorityQueues<ReturnType<typeof item>>((x) => x);
    [item(1, 1), item(9, 2), item(5, 3), item(9, 4), item(1, 5)].forEach((x) => q.push(x));
    assert.deepEqual(order(q), ['9:2', '9:4', '5:3', '1:1', '1:5']);
    assert.deepEqual(
      q.peek(3).map((x) => x.seq),
      [2, 4, 3],
    );
    q.shift(3);
    assert.deepEqual(order(q), ['1:1', '1:5']);
    assert.equal(q.size, 2);
  });

  test('an out-of-order push and put-backs land in their places', () => {
    const q = new PriorityQueues<ReturnType<typeof item>>((x) => x);
    q.push(item(5, 10));
    q.push(item(5, 7));
    assert.deepEqual(order(q), ['5:7', '5:10']);
    const taken = q.peek(2);
    q.shift(2);
    q.push(item(5, 11));
    q.putBack(taken);
    assert.deepEqual(order(q), ['5:7', '5:10', '5:11']);
    q.putBack([item(5, 8)]);
    assert.deepEqual(order(q), ['5:7', '5:8', '5:10', '5:11']);
  });

  test('removeHeads removes given items even when higher priorities were queued meanwhile', () => {
    const q = new PriorityQueues<ReturnType<typeof item>>((x) => x);
    const a = item(3, 1);
    const b = item(3, 2);
    q.push(a);
    q.push(b);
    const batch = q.peek(2);
    q.push(item(9, 3));
    q.removeHeads(batch);
    assert.deepEqual(order(q), ['9:3']);
    const c = item(4, 4);
    q.push(c);
    q.removeHeads([c, item(9, 3)].filter((x) => x === c));
    assert.deepEqual(order(q), ['9:3']);
  });

  test('retain drops matching items at every priority', () => {
    const q = new PriorityQueues<ReturnType<typeof item>>((x) => x);
    for (let s = 1; s <= 18; s++) q.push(item(1 + (s % 9), s));
    assert.equal(
      q.retain((x) => x.seq % 2 === 0),
      9,
    );
    assert.equal(q.size, 9);
    assert.ok(q.toArray().every((x) => x.seq % 2 === 0));
  });
});

describe('RamQueue', () => {
  const topic = normalizeTopic({ name: '/r', hasGd: false });
  const build = (seq: number, input: { priority?: number; expiration?: number; data?: unknown } = {}) =>
    buildMessage(topic, { data: input.data ?? { seq }, priority: input.priority, expiration: input.expiration }, seq, Date.now());

  test('expiry walks the queue only once something can have expired', () => {
    const q = new RamQueue();
    q.push(build(1, { expiration: 50 }));
    q.push(build(2));
    assert.equal(q.dropExpired(Date.now()), 0);
    assert.equal(q.dropExpired(Date.now() + 100), 1);
    assert.equal(q.depth, 1);
  });

  test('messages too large for a frame are dropped; the rest stay in order', () => {
    const q = new RamQueue();
    q.push(build(1));
    q.push(build(2, { data: 'x'.repeat(2000) }));
    q.push(build(3));
    assert.equal(q.dropLargerThan(10_000), 0);
    assert.equal(q.dropLargerThan(1000), 1);
    assert.deepEqual(
      q.peek(10).map((x) => x.message.seq),
      [1, 3],
    );
  });

  test('delivered messages await their ack; unacknowledged ones come back first on requeue', () => {
    const q = new RamQueue();
    for (let s = 1; s <= 4; s++) q.push(build(s));
    const batch = q.peek(2);
    q.shift(2);
    for (const x of batch) q.delivered(x, true);
    assert.equal(q.depth, 4);
    assert.equal(q.acknowledge(batch[0]!.message.msgId), true);
    assert.equal(q.acknowledge(batch[0]!.message.msgId), false);
    q.requeueInFlight();
    assert.deepEqual(
      q.peek(10).map((x) => [x.message.seq, x.deliveryCount]),
      [
        [2, 1],
        [3, 0],
        [4, 0],
      ],
    );
  });
  test("one publication's entry is shared by every subscriber's queue; a delivery in one changes nothing in another", () => {
    const [a, b] = [new RamQueue(), new RamQueue()];
    const message = build(1);
    const fresh = freshQueued(message);
    a.push(message, fresh);
    b.push(message, fresh);
    assert.equal(a.peek(1)[0], b.peek(1)[0], 'the same entry, no copy per subscriber');
    const [x] = a.peek(1);
    a.shift(1);
    a.delivered(x!, true);
    a.requeueInFlight();
    assert.equal(a.peek(1)[0]!.deliveryCount, 1, 'delivered once to a');
    assert.equal(b.peek(1)[0]!.deliveryCount, 0, 'never delivered to b');
    assert.equal(fresh.deliveryCount, 0);
  });
});

describe('Overflow', () => {
  const sub = { subKey: 'zpsk.ws.o1', topicName: '/o' } as unknown as Subscription;
  const quiet: OverflowEvents = { gdDeleted: () => undefined, dropped: () => undefined, stateChanged: () => undefined };

  test('a store read taken while a reserved message is being committed does not lower the count (the cap held)', () => {
    const o = new Overflow(sub, quiet, silentLogger(), { gdDepth: 24 });
    o.reserve(); // the 25th message: counted, its commit under way
    const version = o.version; // a sweep reads the version now…
    o.resync(24, version, 25); // …and the rows before the commit ended: 24
    assert.equal(o.canTake(25), false, 'still 25 counted: the 26th is refused');
    o.committed();
    o.resync(25, o.version, 25);
    assert.equal(o.canTake(25), false);
    assert.equal(o.suspended, true, 'at the limit after the read: suspended');
  });

  test('with nothing in flight, the read of the store is taken (other servers queue rows too)', () => {
    const o = new Overflow(sub, quiet, silentLogger(), { gdDepth: 3 });
    o.reserve();
    o.committed();
    o.resync(10, o.version, 25);
    assert.equal(o.canTake(11), true);
    assert.equal(o.canTake(10), false, 'the count is the store’s 10');
    const stale = o.version;
    o.reserve();
    o.release();
    o.resync(0, stale, 25);
    assert.equal(o.canTake(10), false, 'a read older than a local change is ignored');
  });
});
