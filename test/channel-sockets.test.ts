// What a channel does with its TCP sockets, seen on the server's own sockets (real ones, over loopback; taken at
// accept from Node's `net.server.socket` diagnostics channel): the upgrade's error listener (port-listener.ts) is
// removed once ws has the socket and kept on a refused upgrade, where a reset after the answer is then handled;
// and the replies one TCP read produces leave in one write to the kernel (corked-writer.ts), counted at the
// socket's native handle.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { connect, type Socket } from 'node:net';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
/** Every socket the test process's servers accepted, newest last. */
const accepted: Socket[] = [];
const onAccept = (message: unknown): void => void accepted.push((message as { socket: Socket }).socket);

before(async () => {
  diagnostics.subscribe('net.server.socket', onAccept);
  server = await startTestServer();
});
after(async () => {
  diagnostics.unsubscribe('net.server.socket', onAccept);
  await server.stop();
});

/** The server's end of the connection whose client end is `client` (same ports, crossed). */
function serverEnd(client: Socket): Promise<Socket> {
  return waitFor(
    () => accepted.find((s) => s.remotePort === client.localPort && s.localPort === client.remotePort),
    3000,
    "the server's socket",
  );
}

/** Opens a raw TCP connection, sends a WebSocket upgrade to `url` and resolves with the answer's head. */
async function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ client: Socket; head: string }> {
  const u = new URL(url);
  const client = connect(Number(u.port), u.hostname);
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  client.write(
    `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra.join('')}\r\n`,
  );
  let received = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (!received.includes('\r\n\r\n')) return;
      client.off('data', onData);
      resolve();
    };
    client.on('data', onData).once('error', reject);
  });
  return { client, head: received.slice(0, received.indexOf('\r\n\r\n')) };
}

/** A masked client text frame (payload under 126 bytes). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  assert.ok(payload.length < 126);
  const key = randomBytes(4);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, payload]);
}

/** The handle's methods through which a socket's writes reach the kernel (one call: one write or writev). */
const HANDLE_WRITES = ['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String'];

/** Counts the calls of the socket's native write methods from now on (each passed on unchanged). */
function countHandleWrites(socket: Socket): { calls: string[] } {
  const handle = (socket as unknown as { _handle: Record<string, (...args: unknown[]) => unknown> })._handle;
  const calls: string[] = [];
  for (const name of HANDLE_WRITES) {
    const original = handle[name]!;
    handle[name] = function (this: unknown, ...args: unknown[]) {
      calls.push(name);
      return original.apply(this, args);
    };
  }
  return { calls };
}

test("an accepted upgrade: the listener's upgrade error listener is gone, ws's is the socket's only one", async () => {
  const url = await createChannel(server, { name: 'sockets-accepted', service: 'zato.helpers.echo', protocol: 'plain' });
  const { client, head } = await upgrade(url);
  try {
    assert.match(head, /^HTTP\/1\.1 101 /);
    const socket = await serverEnd(client);
    await waitFor(() => server.channelManager.channel('sockets-accepted').clients().length === 1, 3000, 'the client');
    assert.deepEqual(
      socket.listeners('error').map((f) => f.name),
      ['socketOnError'],
      "ws's own listener, and no other for the connection's life",
    );
  } finally {
    client.destroy();
  }
});

test('a refused upgrade keeps the error listener: a client that resets after the answer is handled, not thrown', async () => {
  const url = await createChannel(server, {
    name: 'sockets-refused',
    service: 'zato.helpers.echo',
    protocol: 'plain',
    allowedOrigins: ['http://allowed.example'],
  });
  const { client, head } = await upgrade(url, { Origin: 'http://other.example' });
  assert.match(head, /^HTTP\/1\.1 403 /);
  const socket = await serverEnd(client);
  // ws never had this socket: the listener added at the upgrade is its only one.
  assert.equal(socket.listenerCount('error'), 1);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  client.resetAndDestroy();
  await closed;
  // The reset reached the server's socket as an error; without a listener it would have ended this process.
  assert.equal((socket.errored as NodeJS.ErrnoException | null)?.code, 'ECONNRESET');
  assert.equal(server.channelManager.channel('sockets-refused').clients().length, 0);
});

test('the replies to frames that arrive in one TCP read leave in one write to the kernel', async () => {
  const url = await createChannel(server, { name: 'sockets-corked', service: 'zato.helpers.echo', protocol: 'plain' });
  const { client, head } = await upgrade(url);
  assert.match(head, /^HTTP\/1\.1 101 /);
  const socket = await serverEnd(client);
  await waitFor(() => server.channelManager.channel('sockets-corked').clients().length === 1, 3000, 'the client');
  const count = 8;
  try {
    const writes = countHandleWrites(socket);
    let reads = 0;
    socket.on('data', () => reads++);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      // Unmasked server text frames of under 126 bytes: 0x81, the length, the payload.
      for (let at = 0; at < chunk.length; at += 2 + chunk[at + 1]!) if (chunk[at] === 0x81) received++;
    });
    // Several frames in one TCP write: on loopback the server reads them in one go.
    client.write(Buffer.concat(Array.from({ length: count }, (_, i) => maskedText(`frame ${i}`))));
    await waitFor(() => received === count, 3000, 'every echo');
    assert.ok(reads >= 1 && reads < count, `the ${count} frames came in ${reads} reads`);
    assert.equal(writes.calls.length, reads, `${writes.calls.join(', ')} for ${reads} read(s) of ${count} frames`);
  } finally {
    client.destroy();
  }
});
