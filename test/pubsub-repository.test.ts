// The pub/sub repository, every case on SQLite (a temporary file) and on PostgreSQL (a schema of its own per test,
// dropped afterwards), through `createPubSubRepository` (issue 11 item 4, issue 12 item 1).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Store, createPubSubRepository, type PubSubMessage, type PubSubRepository } from '../src/store/index.js';
import { storedMessage } from './helpers/stored-message.js';

interface Sub {
  readonly subKey: string;
  readonly topicName: string;
  readonly createdAt: string;
  readonly note: string;
}

/** How a case opens its database: once per test, a second connection to it, and cleaning up. */
interface Database {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

let store: Store;
let repo: PubSubRepository<Sub>;
let reopen: () => Promise<Store>;

function sqliteDatabase(): Database {
  let dir = '';
  return {
    async open() {
      dir = await mkdtemp(join(tmpdir(), 'switchboard-pubsub-repo-'));
      return Store.open({ path: join(dir, 'db.sqlite') });
    },
    reopen: () => Store.open({ path: join(dir, 'db.sqlite') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

// The suite's PostgreSQL pass names its database; alone, this file uses the machine's.
const PG_URL = process.env.SWITCHBOARD_TEST_DB?.startsWith('postgres')
  ? process.env.SWITCHBOARD_TEST_DB
  : 'postgres://postgres@127.0.0.1:5432/test';
const RUN = (process.env.SWITCHBOARD_TEST_RUN ?? 'local')
  .toLowerCase()
  .replace(/[^a-z0-9]/g, '')
  .slice(0, 8);
let schemas = 0;

async function onPostgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function postgresDatabase(): Database {
  let url = '';
  let schema = '';
  return {
    open() {
      schemas += 1;
      schema = `sbt_${RUN}_pubsub_repository_${process.pid}_${schemas}`;
      const u = new URL(PG_URL);
      u.searchParams.set('schema', schema);
      url = u.toString();
      return Store.open({ path: url });
    },
    reopen: () => Store.open({ path: url }),
    cleanup: () => onPostgres(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
  };
}

// Unreachable PostgreSQL skips its half of the file, except under CI, where it is a failure.
const pgUnreachable = await onPostgres('select 1').then(
  () => undefined,
  (err: unknown) => `PostgreSQL at ${PG_URL} unreachable: ${err instanceof Error ? err.message : String(err)}`,
);
const pgSkip = process.env.CI === 'true' ? false : (pgUnreachable ?? false);

function withDatabase(database: () => Database): void {
  let current: Database;
  beforeEach(async () => {
    current = database();
    store = await current.open();
    repo = createPubSubRepository<Sub>(store);
    reopen = () => current.reopen();
  });
  afterEach(async () => {
    await repo.drain();
    await store.close();
    await current.cleanup();
  });
}

describe('SQLite pub/sub repository', () => {
  withDatabase(sqliteDatabase);
  cases();
});

describe('PostgreSQL pub/sub repository', { skip: pgSkip }, () => {
  withDatabase(postgresDatabase);
  test('is the PostgreSQL implementation', () => {
    assert.equal(store.dialect, 'postgres');
    assert.equal(repo.constructor.name, 'PostgresPubSubRepository');
  });
  cases();
});

async function subscribe(subKey: string, topicName: string): Promise<void> {
  await repo.createSubscription({ subKey, topicName, createdAt: new Date().toISOString(), note: `of ${topicName}` });
}

const msg = (topicName: string, priority = 5, options: { expiresIn?: number; data?: unknown } = {}): PubSubMessage =>
  storedMessage(topicName, { priority, ...options });

function cases(): void {
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
    // Resolved means committed: another connection to the same database sees every row.
    const other = await reopen();
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

  test('deleteTopic deletes its messages; topicTotals read what is stored', async () => {
    const m = msg('/gone');
    await repo.publish([m], []);
    assert.deepEqual((await repo.topicTotals()).get('/gone'), { count: 1, bytes: m.size });
    await repo.deleteTopic('/gone');
    assert.equal((await repo.topicTotals()).get('/gone'), undefined);
    await repo.drain();
  });

  test('200 concurrent GD publishes from 8 callers all commit, each visible to another connection once it resolves', async () => {
    await subscribe('k.burst', '/burst');
    let transactions = 0;
    const original = store.db.transaction.bind(store.db);
    store.db.transaction = (() => {
      transactions += 1;
      return original();
    }) as typeof store.db.transaction;
    const other = await reopen();
    try {
      const seen = async (msgId: string): Promise<boolean> =>
        (await other.db.selectFrom('pubsub_queue').select('msg_id').where('msg_id', '=', msgId).executeTakeFirst()) !== undefined;
      const caller = async (): Promise<boolean[]> => {
        const mine = Array.from({ length: 25 }, () => msg('/burst'));
        return Promise.all(mine.map(async (m) => repo.publish([m], ['k.burst']).then(() => seen(m.msgId))));
      };
      const visible = (await Promise.all(Array.from({ length: 8 }, caller))).flat();
      assert.equal(visible.length, 200);
      assert.ok(
        visible.every((v) => v),
        'every resolved publish is committed',
      );
      assert.ok(transactions < 200, `grouped into fewer transactions (${transactions}) than publishes`);
      const n = await other.db
        .selectFrom('pubsub_queue')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('sub_key', '=', 'k.burst')
        .executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 200);
    } finally {
      store.db.transaction = original as typeof store.db.transaction;
      await other.close();
    }
  });

  test('after a failed round, the next round commits', async () => {
    await subscribe('k.next', '/next');
    const m = msg('/next');
    await repo.publish([m], ['k.next']);
    const failed = [repo.publish([m], ['k.next']), repo.publish([msg('/next')], ['k.next'])];
    for (const p of failed) await assert.rejects(p);
    const after = [msg('/next'), msg('/next')];
    await Promise.all(after.map((a) => repo.publish([a], ['k.next'])));
    assert.deepEqual(
      (await repo.nextBatch('k.next', 10)).map((q) => q.message.msgId),
      [m.msgId, ...after.map((a) => a.msgId)],
    );
    assert.deepEqual((await repo.topicTotals()).get('/next'), { count: 3, bytes: m.size + after[0]!.size + after[1]!.size });
  });

  test('nextBatch orders by priority, then seq, across rounds (a lower seq committed later goes in its place)', async () => {
    await subscribe('k.rounds', '/rounds');
    const [s1, s2, s3, s4] = [msg('/rounds', 1), msg('/rounds', 1), msg('/rounds', 9), msg('/rounds', 9)];
    await repo.publish([s1!, s3!], ['k.rounds']);
    await repo.publish([s4!], ['k.rounds']);
    await repo.publish([s2!], ['k.rounds']);
    assert.deepEqual(
      (await repo.nextBatch('k.rounds', 10)).map((q) => q.message.seq),
      [s3!.seq, s4!.seq, s1!.seq, s2!.seq],
    );
  });

  test('every number read back is a number (pg returns bigint, count and sum as strings)', async () => {
    await subscribe('k.num', '/num');
    const m = msg('/num');
    await repo.publish([m], ['k.num']);
    await repo.detach('k.num', Date.now());
    const numbers: unknown[] = [
      ...Object.values(await repo.reserveSeqBlock()),
      ...Object.values((await repo.topicTotals()).get('/num') ?? {}),
      (await repo.queueDepths()).get('k.num'),
      (await repo.getSubscription('k.num'))?.state.detachedAt,
      (await repo.getSubscription('k.num'))?.state.dropped,
      ...(({ seq, priority, pubTime, expirationTime, size }) => [seq, priority, pubTime, expirationTime, size])(
        (await repo.nextBatch('k.num', 1))[0]!.message,
      ),
      (await repo.nextBatch('k.num', 1))[0]!.deliveryCount,
      ...Object.values(await repo.acknowledge('k.num', [m.msgId])),
    ];
    const expired = msg('/num', 5, { expiresIn: -1 });
    await repo.publish([expired], ['k.num']);
    const gone = await repo.deleteExpired(Date.now());
    numbers.push(...Object.values(gone.topics.get('/num') ?? {}), gone.rows.get('k.num'));
    const kinds = numbers.map((v) => (v === null ? 'null' : typeof v));
    assert.deepEqual(
      kinds.filter((k) => k !== 'number'),
      [],
      `kinds: ${kinds.join(', ')}`,
    );
    assert.equal(numbers.length, 19);
  });
}
