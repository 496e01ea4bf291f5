// Two group-commit rounds in flight on PostgreSQL (src/store/group-commit.ts `overlap`): a round of publications
// starts while the previous one is in its COMMIT, yet each publish answers only after its own COMMIT, one topic's
// rounds commit in order (the later waits for the depth row the earlier holds), and replies keep their order.
// The first round's COMMIT is held open by a deferred constraint trigger waiting for an advisory lock the test holds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Store, createPubSubRepository, type PubSubMessage, type PubSubRepository } from '../src/store/index.js';
import { storedMessage } from './helpers/stored-message.js';
import { adminUrl, dropSchema, pgQuery, pgUrl, postgresUnavailable, schemaName } from './helpers/postgres.js';
import { waitFor } from './helpers/server.js';

const unavailable = await postgresUnavailable();
const HOLD_LOCK = 7_231_001;
const APP = `sb-overlap-${process.pid}`;
const msg = (topicName: string, data: unknown): PubSubMessage => storedMessage(topicName, { data });

describe('PostgreSQL group commit with two rounds in flight', { skip: unavailable ?? false }, () => {
  const schema = schemaName('sb_overlap');
  let store: Store;
  let repo: PubSubRepository;
  let locker: pg.Client;

  before(async () => {
    store = await Store.open({ path: pgUrl(schema), applicationName: APP });
    repo = createPubSubRepository(store);
    // At COMMIT, a round holding a message whose data says "hold" waits until the test lets go of the lock.
    await pgQuery(`create function "${schema}".hold() returns trigger language plpgsql as $$
      begin if new.data like '%"hold"%' then perform pg_advisory_xact_lock_shared(${HOLD_LOCK}); end if; return null; end $$`);
    await pgQuery(`create constraint trigger hold after insert on "${schema}".pubsub_message
      deferrable initially deferred for each row execute function "${schema}".hold()`);
    locker = new pg.Client({ connectionString: adminUrl() });
    await locker.connect();
  });

  after(async () => {
    await locker.end().catch(() => undefined);
    await store.close();
    await dropSchema(schema);
  });

  const stored = async () => Number((await pgQuery<{ n: string }>(`select count(*) as n from "${schema}".pubsub_message`))[0]!.n);
  const waiting = (event: string) =>
    pgQuery(`select pid from pg_stat_activity where application_name = $1 and wait_event = $2`, [APP, event]);

  test('the next round starts during the COMMIT, waits for the depth row, and both answer in order after their COMMITs', async () => {
    await locker.query('select pg_advisory_lock($1)', [HOLD_LOCK]);
    const answered: string[] = [];
    const first = Promise.all(Array.from({ length: 40 }, (_, i) => repo.publish([msg('/o', { hold: i === 0, i })], []))).then(
      () => void answered.push('first'),
    );
    // The first round committing, held by the trigger.
    await waitFor(async () => (await waiting('advisory')).length === 1 || undefined, 5000, 'the first round to reach COMMIT');
    const second = repo.publish([msg('/o', { i: 'second' })], []).then(() => void answered.push('second'));
    // The second round started meanwhile, and waits for the topic's depth row, locked by the first until it commits.
    await waitFor(async () => (await waiting('transactionid')).length === 1 || undefined, 5000, 'the second round to start');
    const drained = repo.drain().then(() => void answered.push('drain'));
    assert.deepEqual(answered, [], 'nothing answered before its COMMIT');
    assert.equal(await stored(), 0, 'nothing committed yet');
    await locker.query('select pg_advisory_unlock($1)', [HOLD_LOCK]);
    await first;
    assert.ok((await stored()) >= 40, 'the first round is committed once answered');
    await Promise.all([second, drained]);
    assert.deepEqual(answered, ['first', 'second', 'drain'], 'answered in the order of their rounds');
    assert.equal(await stored(), 41);
    const depth = await pgQuery<{ gd: string }>(
      `select coalesce(sum(gd), 0)::int as gd from "${schema}".pubsub_topic_depth where topic_name = '/o'`,
    );
    assert.equal(Number(depth[0]!.gd), 41, 'each round counted once in the depth row');
  });

  test('a round failing before its COMMIT does not hold up the round after it', async () => {
    const m = msg('/f', { i: 0 });
    await repo.publish([m], []);
    // The same msg_id again violates the primary key: that round rolls back, the next one commits.
    const again = Promise.all(Array.from({ length: 40 }, (_, i) => repo.publish([i ? msg('/f', { i }) : m], [])));
    await assert.rejects(again);
    await repo.publish([msg('/f', { i: 'after' })], []);
    assert.equal((await repo.topicTotals()).get('/f')?.count, 2);
  });
});
