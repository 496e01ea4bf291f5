import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { PlainRemote } from './helpers/plain-remote.js';

// Its own server with one connection, so that the handle count measures this connection alone.
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

const state = (name: string) => server.outgoingManager.state(name) as Record<string, any>;
const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

test('remote killed and restarted 100 times: comes back every time, no handles leak, backoff within bounds', async () => {
  const port = await freePort();
  let remote = await PlainRemote.start(port);
  const reconnect = { initial: 0.005, factor: 2, max: 0.04, resetAfter: 5 };
  await server.api('POST', '/api/outgoing/wsx', { name: 'flappy', address: remote.url, reconnect, pingInterval: 0 });
  await waitFor(() => state('flappy').state === 'connected', 5000, 'flappy to connect');
  const handlesBefore = activeHandles();
  const conn = server.outgoingManager.get('flappy').conn;
  for (let i = 0; i < 100; i++) {
    await remote.kill();
    await waitFor(() => state('flappy').state === 'reconnecting', 3000, `reconnecting #${i}`);
    const next = state('flappy').nextAttemptAt;
    if (next) assert.ok(Date.parse(next) - Date.now() <= reconnect.max * 1000 + 5, 'delay within max');
    remote = await PlainRemote.start(port);
    await waitFor(() => state('flappy').state === 'connected', 3000, `reconnected #${i}`);
  }
  assert.ok(conn.sockets[0]!.reconnects >= 100);
  const handlesAfter = activeHandles();
  assert.ok(handlesAfter <= handlesBefore + 2, `handles: ${handlesBefore} → ${handlesAfter}`);
  await remote.kill();
  await server.api('DELETE', '/api/outgoing/wsx/flappy');
});
