import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushPayload } from '../src/channels/wsx/push-payload.js';

test('a pushed payload is JSON-encoded once however often it is read (a broadcast encodes once)', () => {
  let encodings = 0;
  const data = { toJSON: () => ++encodings && { n: 1 } };
  const payload = new PushPayload(data);
  for (let i = 0; i < 5; i++) assert.equal(payload.json, '{"n":1}');
  assert.equal(encodings, 1);
  assert.equal(payload.data, data);
  assert.equal(new PushPayload(undefined).json, undefined);
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const bad = new PushPayload(cycle);
  assert.throws(() => bad.json);
  assert.throws(() => bad.json, 'what JSON cannot hold throws on every read, not once');
});
