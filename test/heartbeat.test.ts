import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeat, type HeartbeatOptions } from '../src/protocol/index.js';

interface Probe {
  heartbeat: Heartbeat;
  pings: number;
  dead: number[];
  paused: boolean;
}

function probe(t: TestContext, options: Partial<HeartbeatOptions> = {}): Probe {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const p: Probe = { heartbeat: undefined as unknown as Heartbeat, pings: 0, dead: [], paused: false };
  p.heartbeat = new Heartbeat({
    intervalMs: 1000,
    missedThreshold: 2,
    ping: () => void p.pings++,
    dead: (missed) => void p.dead.push(missed),
    isPaused: () => p.paused,
    ...options,
  });
  return p;
}

describe('Heartbeat', () => {
  test('driven: no timer of its own; due(now) pings once the interval has passed, and dead works the same', (t) => {
    const p = probe(t, { driven: true, missedThreshold: 2 });
    p.heartbeat.start(0);
    t.mock.timers.tick(10_000);
    assert.equal(p.pings, 0, 'a driven heartbeat has no timer');
    p.heartbeat.due(999);
    assert.equal(p.pings, 0);
    p.heartbeat.due(1000); // ping 1
    p.heartbeat.due(1500);
    assert.equal(p.pings, 1, 'one ping per interval however often due() is called');
    p.heartbeat.onPong();
    p.heartbeat.due(2000); // ping 2
    p.heartbeat.due(3000); // missed 1, ping 3
    p.heartbeat.due(4000); // missed 2: dead
    assert.equal(p.pings, 3);
    assert.deepEqual(p.dead, [2]);
    p.heartbeat.due(9000);
    assert.equal(p.pings, 3, 'stopped once dead');
    p.heartbeat.start(10_000);
    p.heartbeat.stop();
    p.heartbeat.due(20_000);
    assert.equal(p.pings, 3, 'stopped');
  });

  test('pings once per interval; a peer that answers is never dead', (t) => {
    const p = probe(t);
    p.heartbeat.start();
    for (let i = 0; i < 10; i++) {
      t.mock.timers.tick(1000);
      p.heartbeat.onPong();
    }
    assert.equal(p.pings, 10);
    assert.deepEqual(p.dead, []);
    p.heartbeat.stop();
  });

  test('missedThreshold unanswered pings in a row: dead once, with the count, and pinging stops', (t) => {
    const p = probe(t, { missedThreshold: 3 });
    p.heartbeat.start();
    t.mock.timers.tick(1000); // ping 1
    t.mock.timers.tick(1000); // missed 1, ping 2
    t.mock.timers.tick(1000); // missed 2, ping 3
    assert.deepEqual(p.dead, []);
    assert.equal(p.heartbeat.missed, 2);
    t.mock.timers.tick(1000); // missed 3: dead
    assert.deepEqual(p.dead, [3]);
    assert.equal(p.pings, 3);
    t.mock.timers.tick(10_000);
    assert.deepEqual(p.dead, [3]);
    assert.equal(p.pings, 3);
  });

  test('a pong resets the count: misses must be in a row', (t) => {
    const p = probe(t);
    p.heartbeat.start();
    for (let i = 0; i < 5; i++) {
      t.mock.timers.tick(1000); // ping
      t.mock.timers.tick(1000); // one miss, ping again
      p.heartbeat.onPong();
    }
    assert.deepEqual(p.dead, []);
  });

  test('threshold 1 (the outgoing side): a pong missing for a whole interval is enough', (t) => {
    const p = probe(t, { missedThreshold: 1 });
    p.heartbeat.start();
    t.mock.timers.tick(1000);
    assert.deepEqual(p.dead, []);
    t.mock.timers.tick(1000);
    assert.deepEqual(p.dead, [1]);
  });

  test('while paused (not reading), ticks neither ping nor count a miss', (t) => {
    const p = probe(t, { missedThreshold: 1 });
    p.heartbeat.start();
    t.mock.timers.tick(1000); // ping, awaiting
    p.paused = true;
    t.mock.timers.tick(5000);
    assert.equal(p.pings, 1);
    assert.deepEqual(p.dead, []);
    p.paused = false;
    t.mock.timers.tick(1000); // the wait was cleared: a new ping, no miss
    assert.equal(p.pings, 2);
    assert.deepEqual(p.dead, []);
  });

  test('interval 0 pings never; stop() ends pinging; start() again starts from zero', (t) => {
    const off = probe(t, { intervalMs: 0 });
    off.heartbeat.start();
    t.mock.timers.tick(100_000);
    assert.equal(off.pings, 0);
    t.mock.timers.reset();
    const p = probe(t);
    p.heartbeat.start();
    t.mock.timers.tick(2000); // ping, miss 1 + ping
    assert.equal(p.heartbeat.missed, 1);
    p.heartbeat.stop();
    t.mock.timers.tick(10_000);
    assert.equal(p.pings, 2);
    p.heartbeat.start();
    assert.equal(p.heartbeat.missed, 0);
    t.mock.timers.tick(1000);
    assert.equal(p.pings, 3);
    assert.deepEqual(p.dead, []);
    p.heartbeat.stop();
  });
});
