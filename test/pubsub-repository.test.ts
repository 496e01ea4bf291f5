// The SQLite pub/sub repository on a real temporary database file (issue 11 item 4).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, createPubSubRepository, type PubSubMessage, type PubSubRepository } from '../src/store/index.js';

interface Sub {
  readonly subKey: string;
  readonly topicName: string;
  readonly createdAt: string;
  readonly note: string;
}

let dir: string;
let store: Store;
let repo: PubSubRepository<Sub>;
let seq = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-pubsub-repo-'));
  store = await Store.open({ path: join(dir, 'db.sqlite') });
  repo = createPubSubRepository<Sub>(store);
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function msg(topicName: string, priority = 5, options: { expiresIn?: number; data?: unknown } = {}): PubSubMessage {
  seq += 1;
  const now = Date.now();
  const dataJson = JSON.stringify(options.data ?? { seq });
  return {
    msgId: `zpsm${String(seq).padStart(24, '0')}`,
    seq,
    topicName,
    dataJson,
    mimeType: 'application/json',
    priority,
    pubTime: now,
    expirationTime: now + (options.expiresIn ?? 60_000),
    correlId: null,
    inReplyTo: null,
    extClientId: null,
    size: Buffer.byteLength(dataJson),
    hasGd: true,
  };
}

async function subscribe(subKey: string, topicName: string): Promise<void> {
  await repo.createSubscription({ subKey, topicName, createdAt: new Date().toISOString(), note: `of ${topicName}` });
}

describe('SQLite pub/sub repository', () => {
  test('publishes made together share one transaction (group commit), and each resolves after its COMMIT', async () => {
    await subscribe('k.group', '/group');
    let transactions = 0;
    const original = store.db.transaction.bind(store.db);
    store.db.transaction = (() => {
      transactions += 1;
      return original();
    }) as typeof store.db.transaction;
    try {
      const messages = Array.from({ length: 50 }, () => msg('/group'));
      await Promise.all(messages.map((m) => repo.publish([m], ['k.group'])));
      assert.equal(transactions, 1, 'one transaction for 50 concurrent publishes');
    } finally {
      store.db.transaction = original as typeof store.db.transaction;
    }
    // Resolved means committed: another connection to the same file sees every row.
    const other = await Store.open({ path: store.location });
    try {
      const rows = await other.db.selectFrom('pubsub_queue').select('msg_id').where('sub_key', '=', 'k.group').execute();
      assert.equal(rows.length, 50);
    } finally {
      await other.close();
    }
  });

  test('a failed round rejects every write of it and stores none of it', async () => {
    const m = msg('/fail');
    await repo.publish([m], []);
    // The same msg_id again violates the primary key: the whole round rolls back.
    const again = repo.publish([m], []);
    const other = repo.publish([msg('/fail')], []);
    await assert.rejects(again);
    await assert.rejects(other);
    assert.equal((await repo.topicTotals()).get('/fail')?.count, 1);
  });

  test('nextBatch orders by priority (highest first), then by seq; limit applies', async () => {
    await subscribe('k.order', '/order');
    const published = [msg('/order', 1), msg('/order', 9), msg('/order', 5), msg('/order', 9), msg('/order', 1)];
    await repo.publish(published, ['k.order']);
    const batch = await repo.nextBatch('k.order', 10);
    assert.deepEqual(
      batch.map((q) => [q.message.priority, q.message.seq]),
      [
        [9, published[1]!.seq],
        [9, published[3]!.seq],
        [5, published[2]!.seq],
        [1, published[0]!.seq],
        [1, published[4]!.seq],
      ],
    );
    assert.equal(batch[0]!.deliveryCount, 0);
    assert.deepEqual(batch[0]!.message, published[1]);
    assert.equal((await repo.nextBatch('k.order', 2)).length, 2);
  });

  test('markDelivered hides messages from nextBatch and raises their count; requeue brings them back', async () => {
    await subscribe('k.mark', '/mark');
    const [a, b] = [msg('/mark'), msg('/mark')];
    await repo.publish([a!, b!], ['k.mark']);
    const deleted = await repo.markDelivered('k.mark', [a!.msgId], []);
    assert.deepEqual(deleted, { rows: 0, messages: 0, bytes: 0 });
    assert.deepEqual(
      (await repo.nextBatch('k.mark', 10)).map((q) => q.message.msgId),
      [b!.msgId],
    );
    await repo.requeue('k.mark');
    const again = await repo.nextBatch('k.mark', 10);
    assert.deepEqual(
      again.map((q) => [q.message.msgId, q.deliveryCount]),
      [
        [a!.msgId, 1],
        [b!.msgId, 0],
      ],
    );
    // The previous frame's messages (`done`) are removed in the same commit.
    const done = await repo.markDelivered('k.mark', [b!.msgId], [a!.msgId]);
    assert.deepEqual(done, { rows: 1, messages: 1, bytes: a!.size });
  });

  test('acknowledge removes queue rows, and a message only once no subscription needs it', async () => {
    await subscribe('k.ack1', '/ack');
    await subscribe('k.ack2', '/ack');
    const m = msg('/ack');
    await repo.publish([m], ['k.ack1', 'k.ack2']);
    assert.deepEqual(await repo.acknowledge('k.ack1', [m.msgId]), { rows: 1, messages: 0, bytes: 0 });
    assert.deepEqual(await repo.acknowledge('k.ack1', [m.msgId]), { rows: 0, messages: 0, bytes: 0 }, 'twice is a no-op');
    assert.deepEqual(await repo.acknowledge('k.ack2', [m.msgId]), { rows: 1, messages: 1, bytes: m.size });
    assert.equal((await repo.browse('/ack', 0, 10)).length, 0);
  });

  test('acknowledging more ids than one IN list holds works', async () => {
    await subscribe('k.many', '/many');
    const messages = Array.from({ length: 900 }, () => msg('/many'));
    await repo.publish(messages, ['k.many']);
    const deleted = await repo.acknowledge(
      'k.many',
      messages.map((m) => m.msgId),
    );
    assert.equal(deleted.rows, 900);
    assert.equal(deleted.messages, 900);
  });

  test('deleteExpired removes expired messages with their queue rows, counted per topic and subscription', async () => {
    await subscribe('k.exp', '/exp');
    const gone = [msg('/exp', 5, { expiresIn: -1 }), msg('/exp', 5, { expiresIn: -1 })];
    const kept = msg('/exp');
    await repo.publish([...gone, kept], ['k.exp']);
    const expired = await repo.deleteExpired(Date.now());
    assert.deepEqual(expired.topics.get('/exp'), { count: 2, bytes: gone[0]!.size + gone[1]!.size });
    assert.equal(expired.rows.get('k.exp'), 2);
    assert.deepEqual(
      (await repo.nextBatch('k.exp', 10)).map((q) => q.message.msgId),
      [kept.msgId],
    );
  });

  test('browse pages a topic by seq', async () => {
    const messages = [msg('/browse', 9), msg('/browse', 1), msg('/browse', 5)];
    await repo.publish(messages, []);
    const first = await repo.browse('/browse', 0, 2);
    assert.deepEqual(
      first.map((m) => m.seq),
      [messages[0]!.seq, messages[1]!.seq],
    );
    const rest = await repo.browse('/browse', first[1]!.seq, 2);
    assert.deepEqual(
      rest.map((m) => m.msgId),
      [messages[2]!.msgId],
    );
    assert.equal(rest[0]!.dataJson, messages[2]!.dataJson);
  });

  test('subscriptions: create, get, list, state, detach and attach, drop with its queue', async () => {
    await subscribe('k.crud', '/crud');
    const got = await repo.getSubscription('k.crud');
    assert.equal(got?.subscription.note, 'of /crud');
    assert.deepEqual(got?.state, { suspended: false, dropped: 0, detachedAt: null });
    await repo.saveState('k.crud', { suspended: true, dropped: 7, detachedAt: 1234 });
    assert.deepEqual((await repo.getSubscription('k.crud'))?.state, { suspended: true, dropped: 7, detachedAt: 1234 });
    await repo.attach('k.crud');
    assert.equal((await repo.getSubscription('k.crud'))?.state.detachedAt, null);
    await repo.detach('k.crud', 5678);
    assert.equal((await repo.getSubscription('k.crud'))?.state.detachedAt, 5678);
    assert.ok((await repo.listSubscriptions()).some((s) => s.subscription.subKey === 'k.crud'));

    const m = msg('/crud');
    await repo.publish([m], ['k.crud']);
    assert.equal((await repo.queueDepths()).get('k.crud'), 1);
    assert.deepEqual(await repo.dropQueue('k.crud'), { rows: 1, messages: 1, bytes: m.size });
    assert.equal(await repo.getSubscription('k.crud'), undefined);
    assert.equal((await repo.queueDepths()).get('k.crud'), undefined);
  });

  test('deleteTopic deletes its messages; maxSeq and topicTotals read what is stored', async () => {
    const m = msg('/gone');
    await repo.publish([m], []);
    assert.ok((await repo.maxSeq()) >= m.seq);
    assert.deepEqual((await repo.topicTotals()).get('/gone'), { count: 1, bytes: m.size });
    await repo.deleteTopic('/gone');
    assert.equal((await repo.topicTotals()).get('/gone'), undefined);
    await repo.drain();
  });
});
