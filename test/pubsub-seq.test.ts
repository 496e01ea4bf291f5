// Publication sequence numbers come from the database, not from a per-process counter (issue 12, item 5): servers
// sharing a PostgreSQL database never hand out the same numbers, a restart continues above what is stored, and a
// block used up before the next one came makes publishes wait, never reuse or skip into another server's block.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { SeqAllocator } from '../src/pubsub/seq-allocator.js';
import { Store, createPubSubRepository, type SeqBlock } from '../src/store/index.js';
import { removeServerData, startTestServer, testDb, type TestServer } from './helpers/server.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await removeServerData(dir);
});

const onPostgres = testDb(tmpdir()).db !== undefined;

/** Skips on the SQLite pass, which refuses a second server on one file: clustering is PostgreSQL-only. */
function postgresOnly(reason: string): { skip: string | false } {
  return { skip: onPostgres ? false : `PostgreSQL only: ${reason}` };
}

/** A fresh data dir: its SQLite file, or on the PostgreSQL pass its schema. */
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-seq-'));
  dirs.push(dir);
  return dir;
}

function openStore(dir: string): Promise<Store> {
  return Store.open({ path: testDb(dir).db ?? join(dir, 'db.sqlite') });
}

/** A gate the test opens: `reserve` waits on it while it is closed. */
class Gate {
  #opened: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;

  wait(): Promise<void> {
    return this.#opened;
  }

  close(): void {
    this.#opened = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
  }

  open(): void {
    this.#release();
  }
}

/** Lets every pending callback and I/O completion run a few times over. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function assertIncreasing(seqs: readonly number[], what: string): void {
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `${what}: ${seqs[i - 1]} then ${seqs[i]}`);
}

async function gdTopic(server: TestServer, name: string): Promise<void> {
  const res = await server.api('POST', '/api/pubsub/topics', { name });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** Every stored message of a topic, msg_id → seq, read page by page. */
async function storedSeqs(server: TestServer, topic: string): Promise<Map<string, number>> {
  const seqs = new Map<string, number>();
  for (let after = 0; ;) {
    const page = await server.pubsub.browse(topic, after, 500);
    if (!page.length) return seqs;
    for (const m of page) seqs.set(m.msg_id, m.seq);
    after = page[page.length - 1]!.seq;
  }
}

test('a block used up while the next is still being fetched: callers wait, then get increasing new numbers', async () => {
  const dir = await freshDir();
  const store = await openStore(dir);
  try {
    const repo = createPubSubRepository(store);
    const held = new Gate();
    const blocks: SeqBlock[] = [];
    const seqs = new SeqAllocator({
      reserve: async () => {
        await held.wait();
        const block = await repo.reserveSeqBlock();
        blocks.push(block);
        return block;
      },
    });
    await seqs.start();
    held.close();
    const first = blocks[0]!;
    const taken: number[] = [];
    for (let i = 0; i < first.size; i++) taken.push(seqs.take()!);
    assert.deepEqual(
      taken,
      Array.from({ length: first.size }, (_, i) => first.first + i),
    );
    assert.equal(seqs.take(), undefined, 'the block is used up and the next one is held');
    const order: number[] = [];
    const waiting = Array.from({ length: first.size + 20 }, () => seqs.next().then((s) => (order.push(s), s)));
    await settle();
    assert.deepEqual(order, [], 'nobody got a number while the fetch was held');
    assert.equal(seqs.take(), undefined, 'a later caller does not overtake those waiting');
    held.open();
    const got = await Promise.all(waiting);
    assert.deepEqual(order, got, 'served in the order they asked');
    assertIncreasing([...taken, ...got], 'one allocator');
    assert.ok(blocks.length >= 3, `a block beyond the one held was fetched (${blocks.length})`);
    for (const s of got)
      assert.ok(
        blocks.slice(1).some((b) => s >= b.first && s < b.first + b.size),
        `${s} is of a block reserved for it`,
      );
  } finally {
    await store.close();
  }
});

test('a failed block fetch fails those waiting for it, and the next call fetches again', async () => {
  const dir = await freshDir();
  const store = await openStore(dir);
  // The failure is the store's own: a closed store's repository, as a database that went away.
  const gone = await openStore(await freshDir());
  await gone.close();
  try {
    const repo = createPubSubRepository(store);
    const down = createPubSubRepository(gone);
    let failing = false;
    const prefetchFailures: unknown[] = [];
    const seqs = new SeqAllocator({
      reserve: () => (failing ? down : repo).reserveSeqBlock(),
      prefetchFailed: (err) => prefetchFailures.push(err),
    });
    await seqs.start();
    failing = true;
    const taken: number[] = [];
    for (let n = seqs.take(); n !== undefined; n = seqs.take()) taken.push(n);
    await settle();
    const waiting = [seqs.next(), seqs.next()];
    for (const w of waiting) await assert.rejects(w);
    assert.equal(prefetchFailures.length, 1, 'the prefetch nobody waited for is reported');
    failing = false;
    const next = await seqs.next();
    assert.ok(next > taken[taken.length - 1]!, `${next} continues above ${taken[taken.length - 1]}`);
  } finally {
    await store.close();
  }
});

test(
  'two servers on one database, publishing interleaved: all seqs distinct, each server’s increasing',
  postgresOnly('two servers need a shared database'),
  async () => {
    const a = await startTestServer();
    const b = await startTestServer(testDb(a.dir));
    try {
      await gdTopic(a, '/seq/shared');
      const published = new Map<string, 'a' | 'b'>();
      // Sequential per server (so each server's calls have an order), both servers at once.
      const publisher = async (server: TestServer, name: 'a' | 'b'): Promise<void> => {
        for (let i = 0; i < 250; i++) published.set(await server.pubsub.publish('/seq/shared', { data: { name, i } }), name);
      };
      await Promise.all([publisher(a, 'a'), publisher(b, 'b')]);
      const seqs = await storedSeqs(a, '/seq/shared');
      assert.equal(seqs.size, 500);
      assert.equal(new Set(seqs.values()).size, 500, 'no seq handed out twice');
      for (const name of ['a', 'b'] as const) {
        const mine = [...published].filter(([, n]) => n === name).map(([id]) => seqs.get(id)!);
        assertIncreasing(mine, `server ${name}`);
      }
    } finally {
      await b.stop();
      await a.stop();
    }
  },
);

test('a restarted server continues above every seq stored', async () => {
  const dir = await freshDir();
  const settings = { dataDir: dir, servicesDir: join(dir, 'services'), ...testDb(dir) };
  const first = await startTestServer(settings);
  dirs.push(first.dir);
  await gdTopic(first, '/seq/restart');
  for (let i = 0; i < 130; i++) await first.pubsub.publish('/seq/restart', { data: i });
  const before = Math.max(...(await storedSeqs(first, '/seq/restart')).values());
  await first.close();
  const second = await startTestServer(settings);
  try {
    const id = await second.pubsub.publish('/seq/restart', { data: 'after' });
    const after = (await storedSeqs(second, '/seq/restart')).get(id)!;
    assert.ok(after > before, `${after} after a restart, above ${before}`);
  } finally {
    await second.stop();
  }
});

test(
  'migration 0005 starts the sequence above what an existing database stored',
  postgresOnly('SQLite counts in process'),
  async () => {
    const dir = await freshDir();
    let store = await openStore(dir);
    try {
      // A database as it was before 0005, with a message stored at a high seq.
      await sql`drop sequence pubsub_seq`.execute(store.db);
      // Later migrations are forgotten too (Kysely applies them in order), and applied again: they are idempotent.
      await sql`delete from kysely_migration where name >= '0005_pubsub_seq'`.execute(store.db);
      await sql`insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, size)
      values ('old', 5000, '/old', 'null', 'application/json', 5, 0, 9999999999999, 4)`.execute(store.db);
      await store.close();
      store = await openStore(dir);
      const block = await createPubSubRepository(store).reserveSeqBlock();
      assert.equal(block.first, 5001);
      assert.equal((await createPubSubRepository(store).reserveSeqBlock()).first, 5001 + block.size);
    } finally {
      await store.close();
    }
  },
);
