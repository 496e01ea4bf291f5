import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { Service } from '../src/index.js';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { deployTestServices } from './helpers/services.js';

/** A service whose `handle()` never settles. */
class Never extends Service {
  static override serviceName = 'test.never';
  handle(): Promise<void> {
    return new Promise(() => undefined);
  }
}

/** Answers any message with 20 MiB of text. */
class Big extends Service {
  static override serviceName = 'test.big';
  handle(): void {
    this.response.payload = 'x'.repeat(20 * 1024 * 1024);
  }
}

let server: TestServer;

before(async () => {
  // Slow headers are dropped after 1 s here (10 s by default) so the test does not wait 10 s.
  server = await startTestServer({ channelHeadersTimeoutMs: 1000 });
  deployTestServices(server);
  server.registry.replaceSource(
    'limits',
    [Never, Big].map((cls) => ({ name: cls.serviceName, cls })),
  );
  const sec = await server.api('POST', '/api/security', {
    name: 'limits-basic',
    type: 'basic_auth',
    username: 'u',
    password: 'p',
  });
  assert.equal(sec.status, 201);
});
after(() => server.stop());

type Outcome = { ok: true; client: TestClient } | { ok: false; status: number; code: string };

/** Connects and reports either the open client or the refusal's status and error code. */
async function attempt(url: string, options: Parameters<typeof TestClient.connect>[1] = {}): Promise<Outcome> {
  try {
    return { ok: true, client: await TestClient.connect(url, options) };
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status === undefined) throw err;
    return { ok: false, status: e.status, code: (JSON.parse(e.body ?? '{}') as { error?: { code?: string } }).error?.code ?? '' };
  }
}

function closeAll(outcomes: Outcome[]): void {
  for (const o of outcomes) if (o.ok) o.client.ws.terminate();
}

const basic = { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } };

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('connection limits', () => {
  test('new channels get the documented limits by default', async () => {
    await createChannel(server, { name: 'defaults', service: 'zato.helpers.echo' });
    const res = await server.api('GET', '/api/channels/wsx/defaults');
    assert.equal(res.status, 200);
    const body = res.body as Record<string, unknown>;
    assert.equal(body.maxConnections, 256);
    assert.equal(body.maxConnectionsPerIp, 64);
    assert.equal(body.maxInFlight, 100);
    assert.equal(body.invokeTimeout, 30);
    assert.equal(body.frameTimeout, 10);
  });

  test('maxConnections holds under 200 concurrent handshakes on a basic_auth channel (limit 50)', async () => {
    const url = await createChannel(server, {
      name: 'secured-50',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      security: 'limits-basic',
      maxConnections: 50,
      maxConnectionsPerIp: null,
    });
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => attempt(url, basic)));
    const opened = outcomes.filter((o) => o.ok).length;
    const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    assert.equal(opened, 50);
    assert.equal(refused.length, 150);
    for (const r of refused) assert.deepEqual([r.status, r.code], [503, 'too_many_connections']);
    closeAll(outcomes);
    // Slots are freed when the sockets close: the channel takes connections again.
    await waitFor(() => server.channelManager.state('secured-50').connections === 0, 5000, 'connections to close');
    const again = await attempt(url, basic);
    assert.equal(again.ok, true);
    closeAll([again]);
  });

  test('failed credentials free their slot at once', async () => {
    const url = await createChannel(server, {
      name: 'secured-2',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      security: 'limits-basic',
      maxConnections: 2,
    });
    const wrong = { headers: { authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` } };
    for (let i = 0; i < 5; i++) {
      const failed = await attempt(url, wrong);
      assert.equal(failed.ok ? 0 : failed.status, 401);
    }
    const good = await Promise.all([attempt(url, basic), attempt(url, basic)]);
    assert.deepEqual(
      good.map((o) => o.ok),
      [true, true],
    );
    closeAll(good);
  });

  test('the default per-IP cap (64) refuses the 65th connection from one address, not from another', async () => {
    const url = await createChannel(server, { name: 'per-ip-default', service: 'zato.helpers.echo', protocol: 'plain' });
    const first = await Promise.all(Array.from({ length: 64 }, () => attempt(url, { localAddress: '127.0.0.1' })));
    assert.equal(first.filter((o) => o.ok).length, 64);
    assert.deepEqual(await attempt(url, { localAddress: '127.0.0.1' }), {
      ok: false,
      status: 503,
      code: 'too_many_connections_per_ip',
    });
    const other = await attempt(url, { localAddress: '127.0.0.2' });
    assert.equal(other.ok, true);
    closeAll([...first, other]);
  });

  test('maxConnectionsPerIp is per address and a closed connection frees its slot', async () => {
    const url = await createChannel(server, { name: 'per-ip-5', service: 'zato.helpers.echo', maxConnectionsPerIp: 5 });
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => attempt(url, { localAddress: '127.0.0.1' })));
    assert.equal(outcomes.filter((o) => o.ok).length, 5);
    for (const o of outcomes) if (!o.ok) assert.deepEqual([o.status, o.code], [503, 'too_many_connections_per_ip']);
    const others = await Promise.all(['127.0.0.2', '127.0.0.3'].map((localAddress) => attempt(url, { localAddress })));
    assert.deepEqual(
      others.map((o) => o.ok),
      [true, true],
    );
    const open = outcomes.find((o): o is Extract<Outcome, { ok: true }> => o.ok)!;
    open.client.ws.close();
    await open.client.closed;
    const replaced = await waitFor(
      async () => {
        const o = await attempt(url, { localAddress: '127.0.0.1' });
        return o.ok ? o : undefined;
      },
      5000,
      'a freed slot',
    );
    closeAll([...outcomes, ...others, replaced]);
  });

  test('the memory guard refuses new connections with 503 while the heap is above its fraction', async () => {
    const guarded = await startTestServer({ memoryGuardFraction: 0.0001 });
    try {
      const url = await createChannel(guarded, { name: 'guarded', service: 'zato.helpers.echo', protocol: 'plain' });
      assert.deepEqual(await attempt(url), { ok: false, status: 503, code: 'server_overloaded' });
      const metrics = await guarded.api('GET', '/metrics');
      assert.match(String(metrics.body), /^switchboard_memory_guard_active 1$/m);
      guarded.memoryGuard.setFraction(0);
      const ok = await attempt(url);
      assert.equal(ok.ok, true);
      assert.match(String((await guarded.api('GET', '/metrics')).body), /^switchboard_memory_guard_active 0$/m);
      closeAll([ok]);
    } finally {
      await guarded.stop();
    }
  });
});

describe('calls in flight and invocation timeout', () => {
  test('zato: calls beyond maxInFlight get 429 too_many_requests at once; the connection stays', async () => {
    const url = await createChannel(server, { name: 'inflight-zato', service: 'test.never', maxInFlight: 3 });
    const client = await TestClient.connect(url);
    await client.createSession();
    // These three never get an answer; the socket is closed at the end of the test.
    const pending = [client.invoke({}), client.invoke({}), client.invoke({})].map((p) => p.catch(() => undefined));
    const refused = await client.invoke({});
    assert.deepEqual([refused.meta.msg_type, refused.meta.status, refused.meta.code], ['zwsx.rsperr', 429, 'too_many_requests']);
    assert.equal(client.ws.readyState, 1);
    assert.equal(pending.length, 3);
    client.ws.terminate();
  });

  test('zato: frames sent while create-session is checked wait within maxInFlight; the rest are refused at once', async () => {
    const url = await createChannel(server, {
      name: 'inflight-auth',
      service: 'zato.helpers.echo',
      security: 'limits-basic',
      maxInFlight: 2,
    });
    const client = await TestClient.connect(url);
    const now = () => new Date().toISOString();
    // One write: the invocations arrive while the password hash is being computed.
    client.send({ meta: { action: 'create-session', id: 'c1', timestamp: now(), username: 'u', secret: 'p' } });
    for (let i = 1; i <= 6; i++)
      client.send({ meta: { action: 'invoke-service', id: `q${i}`, timestamp: now(), token: 'not-yet' }, data: i });
    const refused = await Promise.all([3, 4, 5, 6].map((i) => client.reply(`q${i}`)));
    for (const r of refused) assert.deepEqual([r.meta.status, r.meta.code], [429, 'too_many_requests']);
    assert.equal((await client.reply('c1')).meta.msg_type, 'zwsx.rspa');
    // The first that waited is handled after the session exists: its token is wrong, so 401, and then the
    // connection closes (1008) as Zato does, so that Zato's clients create a new session.
    assert.equal((await client.reply('q1')).meta.status, 401);
    assert.equal((await client.closed).code, 1008);
  });

  test('zato: the default cap refuses the 101st pending call', async () => {
    const url = await createChannel(server, { name: 'inflight-default', service: 'test.never' });
    const client = await TestClient.connect(url);
    await client.createSession();
    const ids: string[] = [];
    for (let i = 0; i < 101; i++) {
      const id = client.newId('p');
      ids.push(id);
      client.send({ meta: { action: 'invoke-service', id, timestamp: new Date().toISOString(), token: client.token }, data: {} });
    }
    const last = await client.reply(ids[100]!);
    assert.deepEqual([last.meta.status, last.meta.code], [429, 'too_many_requests']);
    client.ws.terminate();
  });

  test('plain: messages beyond maxInFlight unanswered get a too_many_requests error frame', async () => {
    const url = await createChannel(server, { name: 'inflight-plain', service: 'test.never', protocol: 'plain', maxInFlight: 2 });
    const client = await TestClient.connect(url);
    client.send('a');
    client.send('b');
    client.send('c');
    const error = JSON.parse(await client.nextText()).error;
    assert.deepEqual([error.code, error.status], ['too_many_requests', 429]);
    client.ws.terminate();
  });

  test('zato: a service that never settles is answered 504 timeout and its slot is freed', async () => {
    const url = await createChannel(server, {
      name: 'timeout-zato',
      service: 'helpers.web-sockets-gateway',
      gatewayServices: ['test.never', 'zato.helpers.echo'],
      maxInFlight: 1,
      invokeTimeout: 0.3,
    });
    const client = await TestClient.connect(url);
    await client.createSession();
    const timedOut = await client.gateway('test.never', {});
    assert.deepEqual([timedOut.meta.status, timedOut.meta.code], [504, 'timeout']);
    // The one slot is free again: a call that answers goes through.
    const echoed = await client.gateway('zato.helpers.echo', { x: 1 });
    assert.equal(echoed.meta.status, 200);
    client.ws.terminate();
  });

  test('plain: a service that never settles is answered with a 504 timeout error frame', async () => {
    const url = await createChannel(server, {
      name: 'timeout-plain',
      service: 'test.never',
      protocol: 'plain',
      invokeTimeout: 0.3,
    });
    const client = await TestClient.connect(url);
    client.send('x');
    const error = JSON.parse(await client.nextText()).error;
    assert.deepEqual([error.code, error.status], ['timeout', 504]);
    client.ws.terminate();
  });
});

/** Writes raw bytes on a connected `ws` client's socket (a frame header without its payload, etc.). */
function rawWrite(ws: WebSocket, bytes: Buffer): void {
  (ws as unknown as { _socket: Socket })._socket.write(bytes);
}

/** A masked client frame header (and mask) for a payload of `length` bytes. */
function frameHeader(length: number, { fin = true, opcode = 1 } = {}): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let head: Buffer;
  if (length < 126) head = Buffer.from([first, 0x80 | length]);
  else if (length < 65536) {
    head = Buffer.alloc(4);
    head[0] = first;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([head, Buffer.alloc(4)]); // an all-zero mask: the payload goes as is
}

describe('message read deadline', () => {
  let url: string;
  before(async () => {
    url = await createChannel(server, {
      name: 'frames',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      frameTimeout: 0.5,
      maxMessageSize: 2 * 1024 * 1024,
    });
  });

  test('a frame announcing 1 MiB that stops after 1,000 bytes is closed with 1008', async () => {
    const client = await TestClient.connect(url);
    rawWrite(client.ws, Buffer.concat([frameHeader(1024 * 1024), randomBytes(1000)]));
    const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('still open'), 4000))]);
    assert.deepEqual(closed, { code: 1008, reason: 'Message not completed in time' });
  });

  test('a frame trickled a byte at a time is closed too (the deadline counts from its first byte)', async () => {
    const client = await TestClient.connect(url);
    rawWrite(client.ws, frameHeader(1000));
    const trickle = setInterval(() => rawWrite(client.ws, Buffer.from('a')), 50);
    try {
      const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('still open'), 4000))]);
      assert.deepEqual(closed, { code: 1008, reason: 'Message not completed in time' });
    } finally {
      clearInterval(trickle);
    }
  });

  test('a fragmented message whose last fragment never comes is closed', async () => {
    const client = await TestClient.connect(url);
    rawWrite(client.ws, Buffer.concat([frameHeader(5, { fin: false }), Buffer.from('hello')]));
    const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('still open'), 4000))]);
    assert.deepEqual(closed, { code: 1008, reason: 'Message not completed in time' });
  });

  test('complete messages with idle time between them are not affected', async () => {
    const client = await TestClient.connect(url);
    client.send('one');
    assert.equal(await client.nextText(), 'one');
    await new Promise((r) => setTimeout(r, 1200));
    // A message split over two writes, completed quickly, is fine as well.
    rawWrite(client.ws, Buffer.concat([frameHeader(3), Buffer.from('tw')]));
    rawWrite(client.ws, Buffer.from('o'));
    assert.equal(await client.nextText(), 'two');
    assert.equal(client.ws.readyState, 1);
    client.close();
  });
});

describe('slow readers', () => {
  test('one reply larger than the cut-off (20 MiB) still goes out to a client that reads', async () => {
    const url = await createChannel(server, { name: 'big-reply', service: 'test.big', protocol: 'plain' });
    const client = await TestClient.connect(url);
    client.send('x');
    assert.equal((await client.nextText(10_000)).length, 20 * 1024 * 1024);
    client.close();
  });

  test('a client that reads nothing of what services push to it is dropped instead of buffered without bound', async () => {
    const url = await createChannel(server, { name: 'no-reader', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(url);
    (client.ws as unknown as { _socket: Socket })._socket.pause();
    const channel = server.channelManager.channel('no-reader');
    const [info] = channel.clients();
    const chunk = 'x'.repeat(1024 * 1024);
    // 40 MiB pushed at a client that reads none of it: kept in memory today.
    for (let i = 0; i < 40; i++) await channel.send(info!.pubClientId, chunk).catch(() => undefined);
    await waitFor(() => server.channelManager.state('no-reader').connections === 0, 5000, 'the non-reading client to be dropped');
    client.ws.terminate();
  });
});

/** Opens a raw TCP connection, writes `request` (if any) and collects what comes back until the server closes. */
function rawHttp(
  port: number,
  request: string | Buffer | undefined,
  waitMs = 6000,
): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closed: false });
    }, waitMs);
    socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closed: true });
    });
    socket.on('connect', () => {
      if (request !== undefined) socket.write(request);
    });
  });
}

describe('channel port HTTP', () => {
  let port: number;
  before(async () => {
    port = portOf(await createChannel(server, { name: 'http', service: 'zato.helpers.echo' }));
  });

  test('incomplete headers get 408 and the socket is closed within the headers timeout', async () => {
    const { response, closed } = await rawHttp(port, 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    assert.match(response, /^HTTP\/1\.1 408 /);
    assert.match(response, /"request_timeout"/);
    assert.equal(closed, true);
  });

  test('a connection that never sends a byte is closed within the headers timeout', async () => {
    const { closed } = await rawHttp(port, undefined);
    assert.equal(closed, true);
  });

  test('headers over 16 KiB get 431', async () => {
    const { response, closed } = await rawHttp(
      port,
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 431 /);
    assert.match(response, /"headers_too_large"/);
    assert.equal(closed, true);
  });

  test('garbage gets 400; a plain GET 426 (known path) or 404; a bad upgrade 400', async () => {
    assert.match((await rawHttp(port, 'HELLO THERE\r\n\r\n')).response, /^HTTP\/1\.1 400 /);
    const plain = (await rawHttp(port, 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).response;
    assert.match(plain, /^HTTP\/1\.1 426 /);
    assert.match(plain, /"upgrade_required"/);
    assert.match(
      (await rawHttp(port, 'GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).response,
      /^HTTP\/1\.1 404 /,
    );
    const badUpgrade =
      'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n';
    assert.match((await rawHttp(port, badUpgrade)).response, /^HTTP\/1\.1 400 /);
  });
});
