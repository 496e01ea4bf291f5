// A refused WebSocket upgrade as the Node client reads it: the server's `{ error: { code, message } }` when it is
// Switchboard's, the status alone for anything else (another server's page, garbage, a body too big or too deep),
// and a hostile server that streams a body without end cannot keep the client reading it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_REFUSAL_BODY, parseUpgradeRefusal, upgradeRefusalBody } from '../src/protocol/upgrade-refusal.js';
import { AuthError, ClientError, connect, connectPlain } from '../src/client/node.js';

describe('parseUpgradeRefusal', () => {
  test('reads what the server writes (upgradeRefusalBody), and the status alone from anything else', () => {
    assert.deepEqual(parseUpgradeRefusal(401, upgradeRefusalBody('invalid_credentials', 'Valid credentials are required')), {
      status: 401,
      code: 'invalid_credentials',
      message: 'Valid credentials are required',
    });
    for (const body of [
      '',
      '<html>Unauthorized</html>',
      'null',
      '[]',
      '{"error":null}',
      '{"error":"bad"}',
      '{"nope":{}}',
      '['.repeat(100_000),
      `{"error":{"code":"x","message":"${'m'.repeat(MAX_REFUSAL_BODY)}"}}`,
    ])
      assert.deepEqual(parseUpgradeRefusal(403, body), { status: 403 }, body.slice(0, 40));
    assert.deepEqual(parseUpgradeRefusal(429, '{"error":{"code":7,"message":{}}}'), {
      status: 429,
      code: undefined,
      message: undefined,
    });
    const long = parseUpgradeRefusal(401, `{"error":{"code":"${'c'.repeat(500)}","message":"${'m'.repeat(2000)}"}}`);
    assert.equal(long.code?.length, 100);
    assert.equal(long.message?.length, 500);
  });
});

describe('a hostile server refusing the upgrade', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  /** A raw TCP server that answers every upgrade with `status` and then a body that never ends. */
  async function endlessRefusal(status: number): Promise<{ url: string; written: () => number }> {
    let written = 0;
    const server = createServer((socket: Socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n`);
        const more = (): void => {
          if (socket.destroyed) return;
          written += 16_384;
          if (socket.write('x'.repeat(16_384))) setImmediate(more);
          else socket.once('drain', more);
        };
        more();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { url: `ws://127.0.0.1:${port}/x`, written: () => written };
  }

  test('a 401 with an endless body ends the client with an AuthError after reading a few KiB of it', async () => {
    const options = { connectTimeout: 60_000, retryFirstConnect: true, maxReconnectAttempts: 3 };
    for (const open of [connectPlain, connect]) {
      const { url, written } = await endlessRefusal(401);
      const err = await open(url, options).catch((e: unknown) => e);
      assert.ok(err instanceof AuthError, String(err));
      assert.equal(err.code, 'invalid_credentials');
      assert.equal(err.status, 401);
      // Socket buffers take a few MiB whatever the client reads; reading the body to its end would take all 100 MB.
      assert.ok(written() < 20_000_000, `the server wrote ${written()} bytes of the body`);
    }
  });

  test('a 503 with an endless body is not_connected with its status (and retried, here until the attempts run out)', async () => {
    const { url } = await endlessRefusal(503);
    const err = await connectPlain(url, { connectTimeout: 60_000 }).catch((e: unknown) => e);
    assert.ok(err instanceof ClientError && !(err instanceof AuthError), String(err));
    assert.equal(err.code, 'not_connected');
    assert.equal(err.status, 503);
  });
});
