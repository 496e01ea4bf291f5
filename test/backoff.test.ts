import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCeiling, backoffDelay } from '../src/protocol/index.js';

// The reconnect delay formula on its own (moved out of outgoing-faults.test.ts, assertions unchanged).

describe('backoff', () => {
  const config = { initial: 0.5, factor: 2, max: 30, resetAfter: 5 };

  test('ceilings double from 0.5 s up to 30 s', () => {
    assert.deepEqual(
      Array.from({ length: 9 }, (_, i) => backoffCeiling(i, config)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
  });

  test('full jitter: every delay is between 0 and its ceiling', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      assert.equal(
        backoffDelay(attempt, config, () => 0),
        0,
      );
      assert.equal(
        backoffDelay(attempt, config, () => 0.999999),
        Math.round(0.999999 * backoffCeiling(attempt, config)),
      );
      const d = backoffDelay(attempt, config);
      assert.ok(d >= 0 && d <= backoffCeiling(attempt, config));
    }
  });
});
