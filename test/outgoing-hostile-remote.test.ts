// Issue 10, item 3: no frame from a remote an outgoing connection calls can crash, hang or exhaust the server.
// The remote here is the attacker: a scripted Zato-like `ws` server (helpers/hostile-remote.ts) that sends every
// server frame with every field mistyped, floods, stalls and never reads. After each attack the server must still
// answer /api/health and invoke through another outgoing connection (to a channel of this same server).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Service, opaque, type WsxHookCtx } from '../src/index.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';
import { createChannel, dropTestDb, startTestServer, testDb, waitFor, type TestServer } from './helpers/server.js';
import { HostileRemote, grantSession } from './helpers/hostile-remote.js';

/** Invokes `msg` on the outgoing connection `conn`; returns the reply or the error. */
class CallRemote extends Service {
  static override serviceName = 'test.call-remote';
  async handle(): Promise<void> {
    const { conn, msg } = this.request.payload as { conn: string; msg: unknown };
    await using client = await this.out.wsx.get(conn).conn.client();
    this.response.payload = (await client.invoke(msg)) ?? null;
  }
}

/** A MESSAGE hook that returns what it got (so hostile data goes back out through JSON) and counts its calls. */
class EchoHook extends Service {
  static override serviceName = 'test.echo-hook';
  static override io = { inputOptional: [opaque('ctx')] };
  static calls = 0;
  handle(): void {
    EchoHook.calls++;
    this.response.payload = { echoed: (this.request.input.ctx as WsxHookCtx).data };
  }
}

/** A MESSAGE hook that waits at a gate, recording how many of it run at once. */
class GatedHook extends Service {
  static override serviceName = 'test.gated-hook';
  static override io = { inputOptional: [opaque('ctx')] };
  static running = 0;
  static maxRunning = 0;
  static done = 0;
  static gate: Promise<void> = Promise.resolve();
  async handle(): Promise<void> {
    GatedHook.running++;
    GatedHook.maxRunning = Math.max(GatedHook.maxRunning, GatedHook.running);
    await GatedHook.gate;
    GatedHook.running--;
    GatedHook.done++;
    this.response.payload = 'ok';
  }
}

/** A MESSAGE hook that always throws. */
class ThrowingHook extends Service {
  static override serviceName = 'test.throwing-hook';
  handle(): void {
    throw new Error('hook bug');
  }
}

const SERVICES = [CallRemote, EchoHook, GatedHook, ThrowingHook];

let server: TestServer;
const remotes: HostileRemote[] = [];

before(async () => {
  server = await startTestServer();
  server.registry.replaceSource(
    'hostile',
    SERVICES.map((cls) => ({ name: cls.serviceName, cls })),
  );
  const goodUrl = await createChannel(server, { name: 'good-channel', service: 'helpers.web-sockets-gateway' });
  await outgoing({ name: 'good-conn', address: goodUrl, isZato: true });
  await connected('good-conn');
});
after(async () => {
  for (const remote of remotes) await remote.close();
  await server.stop();
});

async function outgoing(body: Record<string, unknown>): Promise<void> {
  const res = await server.api('POST', '/api/outgoing/wsx', { reconnect: { initial: 0.02, max: 0.1 }, pingInterval: 0, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function hostile(): Promise<HostileRemote> {
  const remote = await HostileRemote.start();
  remotes.push(remote);
  return remote;
}

const state = (name: string) => server.outgoingManager.state(name) as Record<string, any>;
const connected = (name: string) => waitFor(() => state(name).state === 'connected', 5000, `${name} to connect`);
const call = (conn: string, msg: unknown) =>
  server.api('POST', '/api/services/test.call-remote/invoke', { request: { conn, msg } });
const socketOf = (name: string) => server.outgoingManager.get(name).conn.sockets[0]!;

/** The server is up: health answers, and a call through another outgoing connection to a channel works. */
async function assertStillServing(): Promise<void> {
  const health = await fetch(`${server.adminUrl}/api/health`);
  assert.equal(health.status, 200);
  const ping = await call('good-conn', { service: 'zato.ping' });
  assert.equal(ping.status, 200, JSON.stringify(ping.body));
  assert.deepEqual(ping.body.response.data, { pong: 'zato' });
}

// Values of the wrong type for any field, as JSON text (a 100k-deep array cannot go through JSON.stringify).
const DEEP = '['.repeat(100_000) + ']'.repeat(100_000);
const DEEP_OBJECT = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
const BAD_VALUES: Record<string, string> = {
  'an object with toString': '{"toString":1}',
  'an object with valueOf and toString': '{"valueOf":1,"toString":1}',
  'an array holding such an object': '[{"toString":1}]',
  'a 100k-deep array': DEEP,
  'a 100k-deep object': DEEP_OBJECT,
  'a number': '42',
  'a float': '-1.5e308',
  'a boolean': 'true',
  null: 'null',
  'an empty array': '[]',
  'an empty object': '{}',
  // Half a MiB: a template holds up to six values and must stay under the 4 MiB frame limit.
  'a 512 KiB string': JSON.stringify('x'.repeat(512 * 1024)),
  'a 2,000-character id-like string': JSON.stringify('z'.repeat(2000)),
  '__proto__ object': '{"__proto__":{"polluted":1}}',
};

// Every server frame, with `$` where a bad value goes.
const TEMPLATES = [
  '{"meta":{"msg_type":"zwsx.psrq","id":$},"data":{"msg_id":"m1","sub_key":"k1"}}',
  '{"meta":{"msg_type":"zwsx.rqc","id":$},"data":{"q":1}}',
  '{"meta":{"msg_type":"zwsx.merr","status":403,"error_message":$},"data":"forbidden"}',
  '{"meta":{"msg_type":"zwsx.merr","status":$},"data":$}',
  '{"meta":{"msg_type":$,"id":"a1"},"data":{}}',
  '{"meta":$,"data":{}}',
  '$',
  '{"meta":{"msg_type":"zwsx.psrq","id":"p1"},"data":$}',
  '{"meta":{"msg_type":"zwsx.psrq","id":"p2"},"data":{"msg_id":$,"sub_key":"k1","data":1}}',
  '{"meta":{"msg_type":"zwsx.psrq","id":"p3"},"data":[{"msg_id":"m3","sub_key":$,"data":1}]}',
  '{"meta":{"msg_type":"zwsx.rqc","id":"q1"},"data":$}',
  '{"meta":{"msg_type":"zwsx.rspok","status":200,"in_reply_to":$},"data":{}}',
  '{"meta":{"msg_type":$,"status":$,"id":$,"in_reply_to":"no-such-request","error_message":$,"code":$},"data":$}',
  '{"meta":{"msg_type":"zwsx.rspa","status":200,"in_reply_to":"no-such-session"},"data":{"token":$}}',
];

describe('a hostile Zato remote cannot crash the server', () => {
  for (const [label, value] of Object.entries(BAD_VALUES)) {
    test(`a session refusal whose error_message is ${label}: logged, reconnects with backoff, the server stays up`, async () => {
      const remote = await hostile();
      // Zato's own refusal (merr, no in_reply_to), and Switchboard's (with in_reply_to), alternately.
      remote.session = (request) =>
        remote.connections % 2
          ? `{"meta":{"id":"s","timestamp":"","msg_type":"zwsx.merr","status":403,"error_message":${value}},"data":"Forbidden"}`
          : `{"meta":{"id":"s","timestamp":"","msg_type":"zwsx.merr","status":403,"in_reply_to":"${request.meta.id}","error_message":${value}},"data":${value}}`;
      const name = `refused-${Object.keys(BAD_VALUES).indexOf(label)}`;
      await outgoing({ name, address: remote.url, isZato: true, connectTimeout: 2 });
      await waitFor(() => remote.connections >= 3, 5000, 'reconnects');
      assert.notEqual(state(name).state, 'connected');
      assert.match(state(name).lastError ?? '', /refused|Remote error/);
      assert.ok((state(name).lastError ?? '').length < 1000, 'the remote text is clipped');
      await assertStillServing();
      await server.api('DELETE', `/api/outgoing/wsx/${name}`);
    });
  }

  test('every server frame with every field mistyped: each is ignored, the connection stays up, and so does the server', async () => {
    const remote = await hostile();
    await outgoing({ name: 'mistyped', address: remote.url, isZato: true, onMessageService: 'test.echo-hook' });
    await connected('mistyped');
    let sent = 0;
    for (const template of TEMPLATES) {
      for (const value of Object.values(BAD_VALUES)) {
        remote.broadcast(template.replaceAll('$', value));
        sent++;
      }
      // Let each batch be read before the next, so that a crash is pinned to its template.
      await new Promise((r) => setTimeout(r, 20));
    }
    await assertStillServing();
    await waitFor(() => socketOf('mistyped').hooksInFlight === 0, 5000, 'hooks to finish');
    assert.equal(state('mistyped').state, 'connected');
    assert.equal(state('mistyped').reconnects, 0, 'ignored, not reconnected');
    const echo = await call('mistyped', { still: 'answering' });
    assert.deepEqual(echo.body.response.data, { still: 'answering' });
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    const bad = Number(/switchboard_outgoing_bad_frames_total\{connection="mistyped"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(bad > sent / 3, `bad frames counted (${bad} of ${sent} sent)`);
  });

  test('not JSON, JSON that is not an object, empty and binary frames: ignored and counted', async () => {
    const remote = await hostile();
    await outgoing({ name: 'garbage', address: remote.url, isZato: true, onMessageService: 'test.echo-hook' });
    await connected('garbage');
    const frames = [
      'not json',
      '{"meta":',
      '',
      'null',
      '0',
      '"text"',
      '[]',
      '[{"meta":{"msg_type":"zwsx.rqc","id":"a"}}]',
      '{"meta":null}',
      '{}',
    ];
    for (const frame of frames) remote.broadcast(frame);
    remote.broadcast(Buffer.from('{"meta":{"msg_type":"zwsx.rqc","id":"bin"},"data":1}'), true);
    remote.broadcast(Buffer.from([0, 1, 2, 255]), true);
    await assertStillServing();
    await waitFor(
      () => server.outgoingManager.statistics().find((s) => s.name === 'garbage')!.badFrames >= frames.length + 2,
      3000,
      'all counted',
    );
    assert.equal(state('garbage').state, 'connected');
    assert.ok(!remote.received.some((f) => f.meta.in_reply_to === 'bin'), 'a binary frame is not answered');
  });

  test('invalid UTF-8 in a text frame: ws closes it (1007) and the connection comes back', async () => {
    const remote = await hostile();
    await outgoing({ name: 'bad-utf8', address: remote.url, isZato: true });
    await connected('bad-utf8');
    for (const ws of remote.sockets) ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    await waitFor(() => remote.connections >= 2, 3000, 'a reconnect');
    await connected('bad-utf8');
    await assertStillServing();
  });

  test('a message in 20,000 tiny fragments: ws closes the socket (1008, over its 16,384 fragments) and it comes back', async () => {
    const remote = await hostile();
    await outgoing({ name: 'fragments', address: remote.url, isZato: true });
    await connected('fragments');
    for (const ws of remote.sockets) {
      for (let i = 0; i < 20_000; i++) ws.send('x', { fin: false });
      ws.send('x', { fin: true });
    }
    await waitFor(() => remote.connections >= 2, 5000, 'a reconnect');
    await connected('fragments');
    await assertStillServing();
  });

  test('a reply to a pending request with mistyped fields: the call fails at once with invalid_reply (502)', async () => {
    const remote = await hostile();
    await outgoing({ name: 'bad-replies', address: remote.url, isZato: true, responseTimeout: 5 });
    await connected('bad-replies');
    const broken = [
      '"id":{"toString":1}',
      '"status":"200"',
      '"status":{"toString":1}',
      `"id":${DEEP}`,
      '"error_message":{"toString":1}',
      '"code":["x"]',
      '"msg_type":42',
    ];
    for (const field of broken) {
      remote.onInvoke = (ws, request) =>
        ws.send(`{"meta":{"msg_type":"zwsx.rspok","status":200,"in_reply_to":"${request.meta.id}",${field}},"data":{}}`);
      const started = Date.now();
      const res = await call('bad-replies', { service: 'x' });
      assert.equal(res.status, 502, `${field}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid_reply');
      assert.ok(Date.now() - started < 4000, 'at once, not after responseTimeout');
    }
    assert.equal(state('bad-replies').state, 'connected');
    await assertStillServing();
  });

  test('duplicate replies and replies to unknown ids are ignored; the first reply wins', async () => {
    const remote = await hostile();
    await outgoing({ name: 'dup-replies', address: remote.url, isZato: true });
    await connected('dup-replies');
    remote.onInvoke = (ws, request) => {
      const reply = (data: unknown, inReplyTo = request.meta.id) =>
        ws.send(
          JSON.stringify({ meta: { id: 'r', timestamp: '', msg_type: 'zwsx.rspok', status: 200, in_reply_to: inReplyTo }, data }),
        );
      reply('unknown first', 'zwsxc.inv.nobody');
      reply('first');
      reply('second');
      reply('third');
    };
    for (let i = 0; i < 3; i++) assert.equal((await call('dup-replies', {})).body.response.data, 'first');
    await assertStillServing();
  });

  test('a create-session reply without a usable token: not connected, reconnects with backoff, says why', async () => {
    const tokens = [
      '',
      '"token":null',
      '"token":42',
      '"token":{"toString":1}',
      '"token":["zwsxt.1"]',
      `"token":"${'t'.repeat(5000)}"`,
      '"token":""',
    ];
    for (const [i, token] of tokens.entries()) {
      const remote = await hostile();
      remote.session = (request) =>
        `{"meta":{"id":"s","timestamp":"","msg_type":"zwsx.rspa","status":200,"in_reply_to":"${request.meta.id}"},"data":{${token}}}`;
      await outgoing({ name: `no-token-${i}`, address: remote.url, isZato: true });
      await waitFor(() => remote.connections >= 3, 5000, `reconnects (${token.slice(0, 30)})`);
      assert.notEqual(state(`no-token-${i}`).state, 'connected', token.slice(0, 30));
      assert.match(state(`no-token-${i}`).lastError ?? '', /token/);
      await server.api('DELETE', `/api/outgoing/wsx/no-token-${i}`);
    }
    for (const data of ['null', '"zwsxt.1"', '[]', DEEP]) {
      const remote = await hostile();
      remote.session = (request) =>
        `{"meta":{"id":"s","timestamp":"","msg_type":"zwsx.rspa","status":200,"in_reply_to":"${request.meta.id}"},"data":${data}}`;
      await outgoing({ name: 'odd-session-data', address: remote.url, isZato: true });
      await waitFor(() => remote.connections >= 2, 5000, 'a reconnect');
      assert.notEqual(state('odd-session-data').state, 'connected');
      await server.api('DELETE', '/api/outgoing/wsx/odd-session-data');
    }
    await assertStillServing();
  });

  test('a remote that answers every request with token_expired: concurrent calls share a session request, none hangs', async () => {
    const remote = await hostile();
    await outgoing({ name: 'expiring', address: remote.url, isZato: true, responseTimeout: 2, connectTimeout: 2 });
    await connected('expiring');
    remote.onInvoke = (ws, request) =>
      ws.send(
        JSON.stringify({
          meta: {
            id: 'e',
            timestamp: '',
            msg_type: 'zwsx.rsperr',
            status: 401,
            code: 'token_expired',
            in_reply_to: request.meta.id,
            error_message: 'expired',
          },
        }),
      );
    const hung = Symbol('hung');
    const results = await Promise.race([
      Promise.all(Array.from({ length: 5 }, () => call('expiring', { service: 'x' }))),
      new Promise<typeof hung>((r) => setTimeout(() => r(hung), 4000).unref()),
    ]);
    assert.notEqual(results, hung, 'every call returned');
    if (results !== hung) for (const res of results) assert.equal(res.body.response?.status, 401, JSON.stringify(res.body));
    await assertStillServing();
  });

  test('a plain remote flooding frames: at most maxConcurrentMessages MESSAGE hooks at once, every frame handed on', async () => {
    const remote = await hostile();
    await outgoing({ name: 'plain-flood', address: remote.url, onMessageService: 'test.gated-hook', maxConcurrentMessages: 4 });
    await connected('plain-flood');
    let open!: () => void;
    GatedHook.gate = new Promise((r) => (open = r));
    GatedHook.maxRunning = 0;
    GatedHook.done = 0;
    for (let i = 0; i < 3000; i++) remote.broadcast(`frame ${i}`);
    await waitFor(() => GatedHook.running === 4, 3000, 'four hooks running');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(GatedHook.maxRunning, 4);
    open();
    await waitFor(() => GatedHook.done === 3000, 20_000, 'every frame handed on');
    assert.equal(GatedHook.maxRunning, 4);
    await assertStillServing();
  });

  test('a remote that never answers create-session: connectTimeout, then reconnects with backoff', async () => {
    const remote = await hostile();
    remote.session = () => undefined;
    await outgoing({ name: 'no-session', address: remote.url, isZato: true, connectTimeout: 0.2 });
    await waitFor(() => remote.connections >= 3, 5000, 'reconnects');
    assert.match(state('no-session').lastError ?? '', /No session reply/);
    assert.ok(state('no-session').reconnects >= 2);
    await server.api('DELETE', '/api/outgoing/wsx/no-session');
    await assertStillServing();
  });

  test('a remote that sends its upgrade answer a byte at a time: cut off after connectTimeout, then retried', async () => {
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    const dribbler = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      const answer =
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: ' + 'a'.repeat(10_000);
      let i = 0;
      const timer = setInterval(
        () => (i < answer.length && !socket.destroyed ? socket.write(answer[i++]!) : clearInterval(timer)),
        20,
      );
      timers.push(timer);
    });
    await new Promise<void>((r) => dribbler.listen(0, '127.0.0.1', () => r()));
    const port = (dribbler.address() as { port: number }).port;
    try {
      await outgoing({ name: 'dribbler', address: `ws://127.0.0.1:${port}/x`, connectTimeout: 0.3 });
      await waitFor(() => sockets.length >= 2, 5000, 'the first attempt cut off and a retry');
      assert.match(state('dribbler').lastError ?? '', /timed out/i);
      assert.notEqual(state('dribbler').state, 'connected');
    } finally {
      await server.api('DELETE', '/api/outgoing/wsx/dribbler');
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      dribbler.close();
    }
    await assertStillServing();
  });

  test('a frame larger than maxMessageSize (default 4 MiB) closes the socket (1009) and the connection comes back', async () => {
    const remote = await hostile();
    await outgoing({ name: 'big-frames', address: remote.url, isZato: true });
    await connected('big-frames');
    remote.broadcast(`{"meta":{"msg_type":"zwsx.rqc","id":"big"},"data":"${'b'.repeat(5 * 1024 * 1024)}"}`);
    await waitFor(() => remote.connections >= 2, 5000, 'a reconnect');
    await connected('big-frames');
    assert.equal(server.outgoingManager.get('big-frames').config.maxMessageSize, 4 * 1024 * 1024);
    await assertStillServing();
  });

  test('a zwsx.rqc flood: at most maxConcurrentMessages MESSAGE hooks at once, reading pauses, every request is answered', async () => {
    const remote = await hostile();
    await outgoing({
      name: 'flooded',
      address: remote.url,
      isZato: true,
      onMessageService: 'test.gated-hook',
      maxConcurrentMessages: 8,
    });
    await connected('flooded');
    let open!: () => void;
    GatedHook.gate = new Promise((r) => (open = r));
    GatedHook.maxRunning = 0;
    GatedHook.done = 0;
    const flood = 2000;
    for (let i = 0; i < flood; i++) remote.broadcast(`{"meta":{"msg_type":"zwsx.rqc","id":"rqc.${i}"},"data":${i}}`);
    await waitFor(() => GatedHook.running === 8, 3000, 'eight hooks running');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(GatedHook.maxRunning, 8, 'never more than maxConcurrentMessages at once');
    await assertStillServing();
    open();
    await waitFor(
      () => remote.received.filter((f) => f.meta.action === 'client-response').length === flood,
      20_000,
      'every request answered',
    );
    assert.equal(GatedHook.maxRunning, 8);
    const answered = new Set(remote.received.filter((f) => f.meta.action === 'client-response').map((f) => f.meta.in_reply_to));
    assert.equal(answered.size, flood);
    assert.equal(state('flooded').state, 'connected');
  });

  test("hooks that throw, or return what JSON cannot hold (the remote's own deep data), do not crash the server", async () => {
    const remote = await hostile();
    await outgoing({ name: 'bad-hooks', address: remote.url, isZato: true, onMessageService: 'test.throwing-hook' });
    await outgoing({ name: 'deep-echo', address: remote.url, isZato: true, onMessageService: 'test.echo-hook' });
    await connected('bad-hooks');
    await connected('deep-echo');
    remote.broadcast(`{"meta":{"msg_type":"zwsx.rqc","id":"deep"},"data":${DEEP}}`);
    remote.broadcast('{"meta":{"msg_type":"zwsx.rqc","id":"plain"},"data":1}');
    const answers = () => remote.received.filter((f) => f.meta.action === 'client-response');
    await waitFor(
      () => answers().filter((f) => f.meta.in_reply_to === 'deep').length === 2,
      3000,
      'the deep request answered by both',
    );
    await waitFor(
      () => answers().filter((f) => f.meta.in_reply_to === 'plain').length === 2,
      3000,
      'the plain request answered by both',
    );
    assert.ok(
      answers()
        .filter((f) => f.meta.in_reply_to === 'deep')
        .every((f) => (f.data as { response: unknown }).response === null),
      'answered null',
    );
    await assertStillServing();
  });

  test('a remote that never reads: sends are refused with send_buffer_full once maxBufferedBytes wait, memory stays bounded', async () => {
    const remote = await hostile();
    const limit = 256 * 1024;
    await outgoing({ name: 'deaf', address: remote.url, isZato: true, maxBufferedBytes: limit, responseTimeout: 30 });
    await connected('deaf');
    for (const ws of remote.sockets) (ws as unknown as { _socket: Socket })._socket.pause();
    const client = await server.outgoingManager.get('deaf').conn.client();
    const chunk = 'd'.repeat(256 * 1024);
    const codes: string[] = [];
    const calls: Array<Promise<unknown>> = [];
    // 400 × 256 KiB = 100 MiB: far more than loopback's socket buffers hold.
    for (let i = 0; i < 400; i++) {
      calls.push(client.invoke({ service: 'x', request: chunk }).catch((err: { code: string }) => codes.push(err.code)));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => codes.includes('send_buffer_full'), 5000, 'a refused send');
    const buffered = socketOf('deaf').bufferedAmount;
    assert.ok(buffered <= limit + 2 * chunk.length, `buffered ${buffered} bytes`);
    await assertStillServing();
    await server.api('DELETE', '/api/outgoing/wsx/deaf');
    await Promise.allSettled(calls);
    client.release();
  });

  test('a ping flood from a remote that never reads: our pongs stop at maxBufferedBytes', async () => {
    const remote = await hostile();
    const limit = 64 * 1024;
    await outgoing({ name: 'pinged', address: remote.url, isZato: true, maxBufferedBytes: limit });
    await connected('pinged');
    const payload = Buffer.alloc(125, 1);
    for (const ws of remote.sockets) {
      (ws as unknown as { _socket: Socket })._socket.pause();
      for (let i = 0; i < 200_000; i++) ws.ping(payload);
    }
    await new Promise((r) => setTimeout(r, 1500));
    const buffered = socketOf('pinged').bufferedAmount;
    assert.ok(buffered <= limit + 1024, `buffered ${buffered} bytes`);
    await assertStillServing();
    await server.api('DELETE', '/api/outgoing/wsx/pinged');
  });

  test('property: arbitrary JSON in every meta and data position of every server frame never crashes the server', async () => {
    const remote = await hostile();
    await outgoing({ name: 'fuzzed', address: remote.url, isZato: true, onMessageService: 'test.echo-hook' });
    await connected('fuzzed');
    const hostileKeys = fc.dictionary(
      fc.constantFrom('toString', 'valueOf', '__proto__', 'constructor', 'then', 'length'),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const value = fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileKeys, fc.constant(undefined));
    const msgType = fc.oneof(
      fc.constantFrom('zwsx.rspa', 'zwsx.rspok', 'zwsx.rsperr', 'zwsx.merr', 'zwsx.rqc', 'zwsx.psrq'),
      value,
    );
    const frame = fc.record({
      meta: fc.oneof(
        fc.record(
          {
            msg_type: msgType,
            id: value,
            in_reply_to: value,
            status: value,
            error_message: value,
            code: value,
            timestamp: value,
          },
          { requiredKeys: [] },
        ),
        value,
      ),
      data: fc.oneof(
        value,
        fc.array(fc.record({ msg_id: value, sub_key: value, data: value, topic_name: value }, { requiredKeys: [] }), {
          maxLength: 3,
        }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 10 }), async (frames) => {
        for (const f of frames) remote.broadcast(JSON.stringify(f));
        await new Promise((r) => setTimeout(r, 5));
        const health = await fetch(`${server.adminUrl}/api/health`);
        return health.status === 200;
      }),
      { numRuns: 150 },
    );
    await assertStillServing();
  });
});

describe('a stored connection to a hostile remote cannot crash-loop the server', () => {
  test('restart on the same data directory: the server stays up and the connection keeps reconnecting', async () => {
    const remote = await hostile();
    // On every connection: a session, then the frames that killed the server, then a refusal with an object text.
    remote.session = (request) => {
      setTimeout(() => {
        remote.broadcast('{"meta":{"msg_type":"zwsx.psrq","id":{"toString":1}},"data":{}}');
        remote.broadcast('{"meta":{"msg_type":"zwsx.rqc","id":{"toString":1}},"data":{}}');
        remote.broadcast('{"meta":{"msg_type":"zwsx.merr","status":403,"error_message":{"toString":1}},"data":{"toString":1}}');
        for (const ws of remote.sockets) ws.close(1011);
      }, 10);
      return grantSession(request);
    };
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-crash-loop-'));
    const settings = {
      dataDir: dir,
      servicesDir: join(dir, 'services'),
      adminHost: '127.0.0.1',
      adminPort: 0,
      adminToken: 'test-token-test-token-123',
      demo: false,
      ...testDb(dir),
    };
    try {
      for (let run = 0; run < 3; run++) {
        const local = await startServer(settings, silentLogger());
        try {
          local.registry.replaceSource(
            'hostile',
            SERVICES.map((cls) => ({ name: cls.serviceName, cls })),
          );
          if (run === 0) {
            await local.outgoing.create({
              name: 'hostile-stored',
              address: remote.url,
              isZato: true,
              onMessageService: 'test.echo-hook',
              reconnect: { initial: 0.02, max: 0.05 },
            });
          }
          const before = remote.connections;
          await waitFor(() => remote.connections >= before + 3, 5000, `run ${run}: three connections`);
          const health = await fetch(`${local.adminUrl}/api/health`);
          assert.equal(health.status, 200);
        } finally {
          await local.close();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropTestDb(dir);
    }
    await assertStillServing();
  });
});
