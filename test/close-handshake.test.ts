// A peer that never answers our close frame is cut off after CLOSE_TIMEOUT_MS (ws's closeTimeout), on both sides:
// a channel's client and an outgoing connection's remote. Raw TCP peers, so that nothing answers for them.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CLOSE_TIMEOUT_MS } from '../src/protocol/index.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// Well past CLOSE_TIMEOUT_MS, well short of ws's own default of 30 s.
const CUT_OFF_WITHIN_MS = CLOSE_TIMEOUT_MS + 3000;

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

/** Resolves once the socket is closed, or false after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('a channel client that never answers the close frame is cut off', async () => {
  const url = new URL(await createChannel(server, { name: 'mute-client', service: 'zato.helpers.echo', protocol: 'plain' }));
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  await waitFor(() => received.includes('\r\n\r\n'), 3000, 'the upgrade answer');
  assert.match(received, /^HTTP\/1\.1 101/);
  const handle = server.channelManager.channel('mute-client');
  const client = await waitFor(() => handle.clients()[0], 3000, 'the client registered');
  const closed = closedWithin(socket, CUT_OFF_WITHIN_MS);
  await handle.disconnect(client.pubClientId);
  // The close frame (opcode 8) arrives, and this peer answers nothing.
  await waitFor(() => received.includes('\x88'), 3000, 'the close frame');
  assert.equal(await closed, true, 'the server destroyed the socket');
});

test('an outgoing connection whose remote never answers the close frame cuts it off', async () => {
  const sockets: Socket[] = [];
  const remote: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('data', (head: Buffer) => {
      const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(head.toString('latin1'))?.[1] ?? '';
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
    });
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const port = (remote.address() as { port: number }).port;
  try {
    const res = await server.api('POST', '/api/outgoing/wsx', {
      name: 'mute-remote',
      address: `ws://127.0.0.1:${port}/`,
      isZato: false,
      pingInterval: 0,
    });
    assert.equal(res.status, 201);
    await waitFor(
      async () => (await server.api('GET', '/api/outgoing/wsx/mute-remote')).body?.runtime?.state === 'connected',
      5000,
      'connected',
    );
    const socket = sockets[0]!;
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = closedWithin(socket, CUT_OFF_WITHIN_MS);
    await server.api('DELETE', '/api/outgoing/wsx/mute-remote');
    await waitFor(() => received.length > 0, 3000, 'the close frame');
    assert.equal(await closed, true, 'our side destroyed the socket');
  } finally {
    for (const s of sockets) s.destroy();
    remote.close();
  }
});
