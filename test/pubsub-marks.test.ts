// The PostgreSQL pub/sub repository's batched delivery marks (src/store/postgres/pubsub-marks.ts) and per-process
// depth shards (pubsub-depths.ts): many subscriptions' writes as one op of a round, each with its own result and
// fencing; two processes publishing to one topic without waiting for each other's depth row; folding old shards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Store, createPubSubRepository, type PubSubMessage, type PubSubRepository } from '../src/store/index.js';
import { storedMessage } from './helpers/stored-message.js';
import { adminUrl, dropSchema, pgQuery, pgUrl, postgresUnavailable, schemaName } from './helpers/postgres.js';
import { waitFor } from './helpers/server.js';

const unavailable = await postgresUnavailable();
const HOLD_LOCK = 7_231_002;
const APP = `sb-marks-${process.pid}`;
const msg = (topicName: string, data: unknown = {}): PubSubMessage => storedMessage(topicName, { data });

describe('PostgreSQL delivery marks and depth shards', { skip: unavailable ?? false }, () => {
  const schema = schemaName('sb_marks');
  let stores: Store[];
  let repo: PubSubRepository;
  let other: PubSubRepository;

  before(async () => {
    // Two stores: two processes' repositories, each with a depth shard of its own.
    stores = [
      await Store.open({ path: pgUrl(schema), applicationName: APP }),
      await Store.open({ path: pgUrl(schema), applicationName: `${APP}-b` }),
    ];
    repo = createPubSubRepository(stores[0]!);
    other = createPubSubRepository(stores[1]!);
  });

  after(async () => {
    for (const s of stores) await s.close();
    await dropSchema(schema);
  });

  const q = <T extends pg.QueryResultRow>(text: string) => pgQuery<T>(text.replaceAll('S.', `"${schema}".`));
  const depthRows = (topic: string) =>
    q<{ shard: string; gd: string }>(`select shard, gd from S.pubsub_topic_depth where topic_name = '${topic}' order by shard`);
  const depthSum = async (topic: string) => (await depthRows(topic)).reduce((n, r) => n + Number(r.gd), 0);
  /** Waits until one backend of `app` waits on `event` (a lock: 'advisory', 'transactionid'). */
  const backendWaiting = (app: string, event: string, what: string) =>
    waitFor(
      async () =>
        (await pgQuery(`select 1 from pg_stat_activity where application_name = $1 and wait_event = $2`, [app, event])).length ===
          1 || undefined,
      5000,
      what,
    );

  async function subscribed(topic: string, n: number): Promise<string[]> {
    const keys = Array.from({ length: n }, (_, i) => `zpsk.${topic.slice(1)}.${i}`);
    for (const subKey of keys) await repo.createSubscription({ subKey, topicName: topic, createdAt: new Date().toISOString() });
    return keys;
  }

  test("200 subscriptions' marks at once: each marked, then acknowledged, each with its own count", async () => {
    const keys = await subscribed('/m', 200);
    const messages = [msg('/m'), msg('/m'), msg('/m')];
    await repo.publish(messages, keys);
    const ids = messages.map((m) => m.msgId);
    const marked = await Promise.all(keys.map((k) => repo.markDelivered(k, ids, [])));
    assert.ok(marked.every((d) => d.rows === 0 && !d.moved));
    const rows = await q<{ n: string }>(`select count(*) as n from S.pubsub_queue where delivered = 1 and delivery_count = 1`);
    assert.equal(Number(rows[0]!.n), 600, 'every row marked as sent once');
    // The first 199 acknowledge: rows go, messages stay (the last subscription still needs them).
    const acked = await Promise.all(keys.slice(0, 199).map((k) => repo.acknowledge(k, ids)));
    assert.ok(acked.every((d) => d.rows === 3 && d.messages === 0));
    assert.equal(await depthSum('/m'), 3);
    const last = await repo.markDelivered(keys[199]!, [], ids);
    assert.deepEqual(last, { rows: 3, messages: 3, bytes: messages.reduce((n, m) => n + m.size, 0) });
    assert.equal(await depthSum('/m'), 0, 'the depth is back to 0');
    assert.equal((await q<{ n: string }>(`select count(*) as n from S.pubsub_message where topic_name = '/m'`))[0]!.n, '0');
  });

  test('a mark of a stale epoch writes nothing and says moved; a current one in the same round writes', async () => {
    const [stale, current] = await subscribed('/e', 2);
    const m = msg('/e');
    await repo.publish([m], [stale!, current!]);
    await q(`update S.pubsub_subscription set owner_epoch = 2 where sub_key in ('${stale}', '${current}')`);
    const [a, b] = await Promise.all([repo.acknowledge(stale!, [m.msgId], 1), repo.acknowledge(current!, [m.msgId], 2)]);
    assert.equal(a!.moved, true);
    assert.equal(a!.rows, 0);
    assert.deepEqual(b, { rows: 1, messages: 0, bytes: 0 });
    const left = await q<{ sub_key: string }>(`select sub_key from S.pubsub_queue where msg_id = '${m.msgId}'`);
    assert.deepEqual(
      left.map((r) => r.sub_key),
      [stale],
    );
  });

  test("two processes' rounds on one topic do not wait for each other's depth row", async () => {
    // Process A's round is held in its COMMIT by a deferred trigger waiting for a lock the test holds; it has
    // written its depth row. Process B's round on the same topic commits meanwhile (its own shard).
    await q(`create function S.hold() returns trigger language plpgsql as $$
      begin if new.data like '%"hold"%' then perform pg_advisory_xact_lock_shared(${HOLD_LOCK}); end if; return null; end $$`);
    await q(`create constraint trigger hold after insert on S.pubsub_message
      deferrable initially deferred for each row execute function S.hold()`);
    const locker = new pg.Client({ connectionString: adminUrl() });
    await locker.connect();
    try {
      await locker.query('select pg_advisory_lock($1)', [HOLD_LOCK]);
      const held = repo.publish([msg('/s', { hold: true })], []);
      await backendWaiting(APP, 'advisory', "process A's round to reach COMMIT");
      await other.publish([msg('/s'), msg('/s')], []);
      assert.equal(await depthSum('/s'), 2, "B's round committed while A's holds its own row");
      await locker.query('select pg_advisory_unlock($1)', [HOLD_LOCK]);
      await held;
    } finally {
      await locker.end();
    }
    assert.equal(await depthSum('/s'), 3);
    assert.equal((await depthRows('/s')).length, 2, 'one row per process');
  });

  test("two processes acknowledging a message's last two rows at once: the later one deletes the message", async () => {
    // Process A's acknowledgement is held in its COMMIT (a deferred trigger on its queue row's delete) after its
    // statements ran; process B acknowledges the other row meanwhile. Unlocked, each would still see the other's row
    // and keep the message (an orphan); locked, B waits for A and then sees both rows gone.
    const [first, second] = await subscribed('/o', 2);
    const m = msg('/o');
    await repo.publish([m], [first!, second!]);
    await q(`create function S.hold_ack() returns trigger language plpgsql as $$
      begin perform pg_advisory_xact_lock_shared(${HOLD_LOCK + 1}); return null; end $$`);
    await q(`create constraint trigger hold_ack after delete on S.pubsub_queue deferrable initially deferred
      for each row when (old.sub_key = '${first}') execute function S.hold_ack()`);
    const locker = new pg.Client({ connectionString: adminUrl() });
    await locker.connect();
    try {
      await locker.query('select pg_advisory_lock($1)', [HOLD_LOCK + 1]);
      const a = repo.acknowledge(first!, [m.msgId]);
      await backendWaiting(APP, 'advisory', "A's acknowledgement to reach COMMIT");
      let bDone = false;
      const b = other.acknowledge(second!, [m.msgId]).then((d) => ((bDone = true), d));
      await backendWaiting(`${APP}-b`, 'transactionid', "B's acknowledgement to wait for A's lock on the message");
      assert.equal(bDone, false);
      await locker.query('select pg_advisory_unlock($1)', [HOLD_LOCK + 1]);
      assert.deepEqual(await a, { rows: 1, messages: 0, bytes: 0 });
      assert.deepEqual(await b, { rows: 1, messages: 1, bytes: m.size });
    } finally {
      await locker.end();
    }
    const left = await q<{ n: string }>(`select count(*) as n from S.pubsub_message where msg_id = '${m.msgId}'`);
    assert.equal(left[0]!.n, '0', 'no orphan');
    assert.equal(await depthSum('/o'), 0);
  });

  test("the housekeeper folds shards nobody wrote for a while into the topic's row ''; the sum stays", async () => {
    await q(`update S.pubsub_topic_depth set updated_at = now() - interval '1 minute' where topic_name = '/s'`);
    const folded = await repo.cluster!.foldDepths();
    assert.equal(folded, 2);
    assert.deepEqual(
      (await depthRows('/s')).map((r) => [r.shard, Number(r.gd)]),
      [['', 3]],
    );
    assert.equal((await repo.cluster!.depths()).get('/s')?.count, 3);
    // A process writing again gets a row of its own beside ''.
    await other.publish([msg('/s')], []);
    assert.equal((await depthRows('/s')).length, 2);
    assert.equal((await repo.cluster!.depths()).get('/s')?.count, 4);
  });
});
