// `ws` unmasks client frames of 32 bytes and more with bufferutil's native code when the package loads (every WSX
// frame is larger: the gateway's invoke-service is ~190 bytes, and a 1 MiB message is unmasked byte by byte in JS
// without it). bufferutil falls back to JS silently when its binding is missing; this says so instead.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);

test('bufferutil loads its native binding (not its JS fallback), where ws finds it', () => {
  const wsDir = require.resolve('ws');
  const fromWs = createRequire(wsDir);
  const loaded = fromWs('bufferutil') as { unmask: unknown };
  const fallback = fromWs('bufferutil/fallback') as { unmask: unknown };
  assert.equal(typeof loaded.unmask, 'function');
  assert.notEqual(loaded.unmask, fallback.unmask, 'bufferutil runs its JS fallback: its native build is missing');
  assert.equal(process.env.WS_NO_BUFFER_UTIL, undefined, 'WS_NO_BUFFER_UTIL turns it off for ws');
});
