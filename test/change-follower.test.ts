import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ChangeFollower, ConfigRepository, Store, type ConfigChange } from '../src/store/index.js';

// The follower is pushed the store's committed changes (no polling), so these tests drive it by committing through a
// repository on a real SQLite file, and hold its handler on a gate to let several changes land while it is busy.

interface Thing {
  name: string;
  v: number;
}

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

// An error handler for tests where none may fail: rethrowing makes settled() reject, which fails the test.
const unexpected = (err: unknown): never => {
  throw err;
};

const label = (c: ConfigChange<Thing>) => `${c.op} ${c.name} ${c.previous?.v ?? '-'}→${c.current?.v ?? '-'}`;

describe('ChangeFollower on a SQLite store', () => {
  let dir: string;
  let store: Store;
  let things: ConfigRepository<Thing>;
  let others: ConfigRepository<Thing>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-follower-'));
    store = await Store.open({ path: join(dir, 'db.sqlite') });
    things = new ConfigRepository<Thing>(store, 'channel');
    others = new ConfigRepository<Thing>(store, 'topic');
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("delivers its own kind's committed changes in order, with the previous and the current object", async () => {
    const seen: string[] = [];
    const follower = new ChangeFollower<Thing>(store, 'channel', async (c) => void seen.push(label(c)), unexpected);
    follower.start();
    await things.create({ name: 'a', v: 1 });
    await others.create({ name: 'x', v: 9 });
    await things.update('a', { name: 'a', v: 2 });
    await things.delete('a');
    await follower.settled();
    assert.deepEqual(seen, ['create a -→1', 'update a 1→2', 'delete a 2→-']);
    follower.stop();
  });

  test('none is missed when several land while the handler is busy, and they are applied one at a time', async () => {
    const held = gate();
    const seen: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const follower = new ChangeFollower<Thing>(
      store,
      'channel',
      async (c) => {
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        if (seen.length === 0) await held.promise;
        seen.push(label(c));
        running--;
      },
      unexpected,
    );
    follower.start();
    await things.create({ name: 'a', v: 1 });
    for (let v = 2; v <= 6; v++) await things.update('a', { name: 'a', v });
    await things.create({ name: 'b', v: 1 });
    assert.deepEqual(seen, [], 'the first change still holds the handler');
    held.open();
    await follower.settled();
    assert.deepEqual(seen, [
      'create a -→1',
      'update a 1→2',
      'update a 2→3',
      'update a 3→4',
      'update a 4→5',
      'update a 5→6',
      'create b -→1',
    ]);
    assert.equal(mostAtOnce, 1);
    follower.stop();
  });

  test('a handler that throws or rejects is reported, and the follower goes on with the next change', async () => {
    const seen: string[] = [];
    const errors: string[] = [];
    const follower = new ChangeFollower<Thing>(
      store,
      'channel',
      (c) => {
        if (c.current?.v === 2) throw new Error('sync throw at 2');
        if (c.current?.v === 3) return Promise.reject(new Error('rejected at 3'));
        seen.push(label(c));
        return Promise.resolve();
      },
      (err) => errors.push((err as Error).message),
    );
    follower.start();
    await things.create({ name: 'a', v: 1 });
    await things.update('a', { name: 'a', v: 2 });
    await things.update('a', { name: 'a', v: 3 });
    await things.update('a', { name: 'a', v: 4 });
    await follower.settled();
    assert.deepEqual(errors, ['sync throw at 2', 'rejected at 3']);
    assert.deepEqual(seen, ['create a -→1', 'update a 3→4']);
    follower.stop();
  });

  test('stop() stops following; what was queued before still runs, and settled() waits for it', async () => {
    const held = gate();
    const seen: string[] = [];
    const follower = new ChangeFollower<Thing>(
      store,
      'channel',
      async (c) => {
        await held.promise;
        seen.push(label(c));
      },
      unexpected,
    );
    follower.start();
    await things.create({ name: 'a', v: 1 });
    follower.stop();
    await things.update('a', { name: 'a', v: 2 });
    assert.equal(store.listenerCount('change'), 0, 'the follower no longer listens');
    held.open();
    await follower.settled();
    assert.deepEqual(seen, ['create a -→1']);
  });

  test('nothing is delivered before start()', async () => {
    const seen: string[] = [];
    const follower = new ChangeFollower<Thing>(store, 'channel', async (c) => void seen.push(label(c)), unexpected);
    await things.create({ name: 'early', v: 1 });
    follower.start();
    await things.create({ name: 'late', v: 1 });
    await follower.settled();
    assert.deepEqual(seen, ['create late -→1']);
    follower.stop();
  });

  test('run() joins the same queue: a start-up task and the changes after it run in order, never interleaved', async () => {
    const order: string[] = [];
    const loading = gate();
    const follower = new ChangeFollower<Thing>(store, 'channel', async (c) => void order.push(`change ${c.name}`), unexpected);
    follower.start();
    follower.run(async () => {
      order.push('load begins');
      await loading.promise;
      order.push('load ends');
    });
    await things.create({ name: 'a', v: 1 });
    follower.run(async () => void order.push('after a'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['load begins']);
    loading.open();
    await follower.settled();
    assert.deepEqual(order, ['load begins', 'load ends', 'change a', 'after a']);
    follower.stop();
  });

  test('a failed run() task is reported like a failed change and does not block the queue', async () => {
    const errors: unknown[] = [];
    const order: string[] = [];
    const follower = new ChangeFollower<Thing>(
      store,
      'channel',
      async (c) => void order.push(c.name),
      (err) => errors.push(err),
    );
    follower.start();
    const boom = new Error('start-up task failed');
    follower.run(() => Promise.reject(boom));
    await things.create({ name: 'a', v: 1 });
    await follower.settled();
    assert.deepEqual(errors, [boom]);
    assert.deepEqual(order, ['a']);
    follower.stop();
  });
});
