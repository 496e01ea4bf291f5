import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PendingRequests } from '../src/protocol/index.js';

class TooMany extends Error {}
class Timeout extends Error {}

function table(max = 3): PendingRequests<string> {
  return new PendingRequests<string>(max, {
    tooMany: (count) => new TooMany(`${count} waiting`),
    timeout: (ms) => new Timeout(`${ms} ms`),
  });
}

function fakeTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

describe('PendingRequests', () => {
  test('settles by id, once; a late or unknown id is reported as such', async (t) => {
    fakeTimers(t);
    const pending = table();
    const reply = pending.add('a', { timeoutMs: 1000 });
    assert.equal(pending.size, 1);
    assert.ok(pending.has('a'));
    assert.equal(pending.settle('a', 'answer'), true);
    assert.equal(await reply, 'answer');
    assert.equal(pending.settle('a', 'again'), false);
    assert.equal(pending.settle('zzz', 'x'), false);
    assert.equal(pending.size, 0);
  });

  test('each request times out on its own timer with the typed error, and is forgotten', async (t) => {
    fakeTimers(t);
    const pending = table();
    const early = pending.add('early', { timeoutMs: 100 });
    const late = pending.add('late', { timeoutMs: 500 });
    t.mock.timers.tick(100);
    await assert.rejects(early, (err: unknown) => err instanceof Timeout && err.message === '100 ms');
    assert.equal(pending.size, 1);
    assert.equal(pending.settle('early', 'too late'), false);
    t.mock.timers.tick(399);
    assert.ok(pending.has('late'));
    pending.settle('late', 'in time');
    assert.equal(await late, 'in time');
    // A settled request's timer is cleared: running the clock on rejects nothing.
    t.mock.timers.tick(10_000);
  });

  test('refuses over the cap with the typed "too many" error, without registering', async (t) => {
    fakeTimers(t);
    const pending = table(2);
    const a = pending.add('a', { timeoutMs: 1000 });
    pending.add('b', { timeoutMs: 1000 }).catch(() => undefined);
    assert.ok(pending.isFull);
    await assert.rejects(
      pending.add('c', { timeoutMs: 1000 }),
      (err: unknown) => err instanceof TooMany && err.message === '2 waiting',
    );
    assert.equal(pending.has('c'), false);
    pending.settle('a', 'x');
    await a;
    assert.equal(pending.isFull, false);
    pending.failAll(new Error('done'));
  });

  test('fails one request by id, or all of them on close, and clears their timers', async (t) => {
    fakeTimers(t);
    const pending = table();
    const a = pending.add('a', { timeoutMs: 1000 });
    const b = pending.add('b', { timeoutMs: 1000 });
    const c = pending.add('c', { timeoutMs: 1000 });
    assert.equal(pending.fail('a', new Error('bad reply')), true);
    await assert.rejects(a, /bad reply/);
    const closed = new Error('closed');
    pending.failAll(closed);
    await assert.rejects(b, (err) => err === closed);
    await assert.rejects(c, (err) => err === closed);
    assert.equal(pending.size, 0);
    assert.equal(pending.fail('b', new Error('x')), false);
    t.mock.timers.tick(5000);
  });

  test('onReply runs synchronously when the reply is read (settle or a failed reply), not on timeout or a failed send', async (t) => {
    fakeTimers(t);
    const pending = table();
    const seen: string[] = [];
    const a = pending.add('a', { timeoutMs: 1000, onReply: () => seen.push('a') });
    pending.settle('a', 'x');
    assert.deepEqual(seen, ['a']);
    await a;
    const b = pending.add('b', { timeoutMs: 1000, onReply: () => seen.push('b') });
    pending.fail('b', new Error('malformed'));
    assert.deepEqual(seen, ['a', 'b']);
    await assert.rejects(b);
    const c = pending.add('c', { timeoutMs: 1000, onReply: () => seen.push('c') });
    pending.fail('c', new Error('not sent'), false);
    await assert.rejects(c);
    const d = pending.add('d', { timeoutMs: 10, onReply: () => seen.push('d') });
    t.mock.timers.tick(10);
    await assert.rejects(d);
    assert.deepEqual(seen, ['a', 'b']);
  });
});
