// Taps (docs/admin-api.md, "Tapping a channel"): a real server, real WSX and plain clients over loopback, and the
// admin's Server-Sent Events stream read by a real HTTP client. What a tap shows, in order; what it never shows
// (secrets); how far it goes (rate, watcher backlog, number of taps, duration); who may open one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { TAP_LIMITS } from '../src/channels/wsx/index.js';
import { MASK, maskSecrets } from '../src/channels/wsx/tap-mask.js';
import {
  createChannel,
  freePort,
  postgresOnly,
  startTestServer,
  TEST_TOKEN,
  waitFor,
  type TestServer,
} from './helpers/server.js';
import { TapStream } from './helpers/tap-stream.js';
import { TestClient } from './helpers/wsx-client.js';

setFlagsFromString('--expose-gc');
// A real collection before each measurement, so that the heap compared is what is still held.
const gc = runInNewContext('gc') as () => void;
const heapHeld = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

const PASSWORD = 'correct horse battery';
const JWT_KEY = 'a-jwt-hmac-key-of-at-least-32-bytes!';

let server: TestServer;
let zatoUrl: string;
let plainUrl: string;
let securedUrl: string;
let jwtUrl: string;

before(async () => {
  server = await startTestServer();
  await server.api('POST', '/api/security', { name: 'tap-partners', type: 'basic_auth', username: 'acme', password: PASSWORD });
  await server.api('POST', '/api/security', { name: 'tap-jwt', type: 'jwt', secret: JWT_KEY });
  zatoUrl = await createChannel(server, { name: 'tap-zato', service: 'zato.helpers.echo' });
  plainUrl = await createChannel(server, { name: 'tap-plain', service: 'zato.helpers.echo', protocol: 'plain' });
  securedUrl = await createChannel(server, { name: 'tap-secured', service: 'zato.helpers.echo', security: 'tap-partners' });
  jwtUrl = await createChannel(server, { name: 'tap-jwt', service: 'zato.helpers.echo', security: 'tap-jwt' });
});
after(() => server.stop());

const tapsOf = async (channel: string): Promise<any[]> =>
  (await server.api('GET', `/api/channels/wsx/${encodeURIComponent(channel)}/taps`)).body;

/** The pubClientId of the client that sent `client_id: extClientId`. */
async function pubClientIdOf(channel: string, extClientId: string): Promise<string> {
  const clients = (await server.api('GET', `/api/channels/wsx/${channel}/clients`)).body as any[];
  const found = clients.find((c) => c.extClientId === extClientId);
  assert.ok(found, `client ${extClientId} is connected`);
  return found.pubClientId;
}

/** The action (client → server) or msg_type (server → client) of a WSX frame's text. */
const kindOf = (text: string): string => {
  const meta = (JSON.parse(text) as { meta: { action?: string; msg_type?: string } }).meta;
  return meta.action ?? meta.msg_type ?? '?';
};

/** Opens a plain WebSocket that only counts what it receives (no frame is kept in memory). */
async function counter(url: string): Promise<{ ws: WebSocket; received: () => number }> {
  const ws = new WebSocket(url);
  let n = 0;
  ws.on('message', () => n++);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, received: () => n };
}

describe('what a tap shows', () => {
  test('a channel tap sees every frame in and out of every client, in order, with direction, client, size and time', async () => {
    const tap = await TapStream.start(server.adminUrl, 'tap-zato');
    const health = (await server.api('GET', '/api/health')).body;
    assert.equal(tap.started.server, health.server, 'the stream names the server whose connections it sees');
    assert.equal(tap.started.pubClientId, null);
    assert.equal(tap.started.rate, TAP_LIMITS.defaultRate);

    const a = await TestClient.connect(zatoUrl);
    await a.createSession({ client_id: 'order-a' });
    const b = await TestClient.connect(zatoUrl);
    await b.createSession({ client_id: 'order-b' });
    await a.invoke({ n: 1 });
    await b.invoke({ n: 2 });
    await a.invoke({ n: 3 });
    const [ida, idb] = [await pubClientIdOf('tap-zato', 'order-a'), await pubClientIdOf('tap-zato', 'order-b')];
    await tap.waitFor(() => tap.frames().length >= 10, 5000, 'ten frames');

    const frames = tap.frames();
    assert.deepEqual(
      frames.map((f) => [f.direction, f.pubClientId, kindOf(f.text)]),
      [
        ['in', ida, 'create-session'],
        ['out', ida, 'zwsx.rspa'],
        ['in', idb, 'create-session'],
        ['out', idb, 'zwsx.rspa'],
        ['in', ida, 'invoke-service'],
        ['out', ida, 'zwsx.rspok'],
        ['in', idb, 'invoke-service'],
        ['out', idb, 'zwsx.rspok'],
        ['in', ida, 'invoke-service'],
        ['out', ida, 'zwsx.rspok'],
      ],
    );
    assert.deepEqual(
      frames.filter((f) => f.direction === 'out' && kindOf(f.text) === 'zwsx.rspok').map((f) => JSON.parse(f.text).data),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
    frames.forEach((f, i) => {
      assert.equal(f.seq, i + 1, 'nothing was skipped');
      assert.equal(f.channel, 'tap-zato');
      assert.equal(f.truncated, false);
      assert.equal(f.binary, false);
      assert.ok(!Number.isNaN(Date.parse(f.at)), f.at);
      // A frame with nothing masked is shown as it is, and its size is its own.
      if (!f.text.includes(MASK)) assert.equal(f.size, Buffer.byteLength(f.text));
    });
    assert.ok(
      frames.every((f, i) => i === 0 || Date.parse(f.at) >= Date.parse(frames[i - 1].at)),
      'times never go back',
    );
    tap.close();
    a.close();
    b.close();
  });

  test('a client tap sees that client only, and stops when the client disconnects', async () => {
    const a = await TestClient.connect(zatoUrl);
    await a.createSession({ client_id: 'only-a' });
    const b = await TestClient.connect(zatoUrl);
    await b.createSession({ client_id: 'only-b' });
    const ida = await pubClientIdOf('tap-zato', 'only-a');
    const tap = await TapStream.start(server.adminUrl, 'tap-zato', { pubClientId: ida });
    assert.equal(tap.started.pubClientId, ida);
    // b first: had the tap taken b's frames, they would come before a's.
    await b.invoke({ who: 'b' });
    await a.invoke({ who: 'a' });
    await b.invoke({ who: 'b again' });
    await tap.waitFor(() => tap.frames().length >= 2, 5000, "a's two frames");
    a.close();
    const stopped = await tap.stopped();
    assert.equal(stopped.reason, 'client_disconnected');
    const frames = tap.frames();
    assert.deepEqual(
      frames.map((f) => [f.direction, f.pubClientId, JSON.parse(f.text).data]),
      [
        ['in', ida, { who: 'a' }],
        ['out', ida, { who: 'a' }],
      ],
    );
    await tap.ended;
    assert.deepEqual(await tapsOf('tap-zato'), []);
    b.close();
  });

  test('a large frame is cut to 4 KiB with its size kept (a secret cut in half is masked to the end); binary frames say so', async () => {
    const tap = await TapStream.start(server.adminUrl, 'tap-plain');
    const client = await TestClient.connect(plainUrl);
    const large = `${'x'.repeat(4080)}{"secret":"abcdefghijklmnopqrstuvwxyz"}`;
    client.send(large);
    await client.nextText();
    client.send(Buffer.from([0x01, 0x02, 0x68, 0x69]));
    await client.nextRaw();
    await tap.waitFor(() => tap.frames().length >= 4, 5000, 'four frames');
    const [largeIn, largeOut, binaryIn, binaryOut] = tap.frames();
    for (const f of [largeIn, largeOut]) {
      assert.equal(f.size, Buffer.byteLength(large));
      assert.equal(f.truncated, true);
      assert.ok(Buffer.byteLength(f.text) <= TAP_LIMITS.textBytes + MASK.length + 2, `${Buffer.byteLength(f.text)} bytes`);
      assert.ok(f.text.startsWith('xxxx'));
      assert.doesNotMatch(f.text, /abcde/);
      assert.ok(f.text.endsWith(`"secret":"${MASK}"`), f.text.slice(-30));
    }
    assert.deepEqual(
      [binaryIn.direction, binaryIn.binary, binaryIn.size, binaryOut.direction, binaryOut.binary],
      ['in', true, 4, 'out', true],
    );
    tap.close();
    client.close();
  });
});

describe('masking', () => {
  const cases: Array<{ what: string; text: string; hidden: string[]; shown?: string[]; truncated?: boolean }> = [
    {
      what: 'the create-session secret (a basic auth password)',
      text: '{"meta":{"action":"create-session","id":"c1","username":"acme","secret":"correct horse battery"}}',
      hidden: ['correct horse'],
      shown: ['"username":"acme"', `"secret":"${MASK}"`, '"action":"create-session"'],
    },
    {
      what: 'the session token of zwsx.rspa and of meta.token',
      text: '{"meta":{"msg_type":"zwsx.rspa","token":"zwsxt.0123456789abcdef"},"data":{"token":"zwsxt.0123456789abcdef"}}',
      hidden: ['0123456789abcdef'],
      shown: ['"msg_type":"zwsx.rspa"'],
    },
    {
      what: 'a session token wherever it appears',
      text: '{"data":{"note":"the old one was zwsxt.fedcba9876543210, keep it"}}',
      hidden: ['fedcba9876543210'],
      shown: [`zwsxt.${MASK}, keep it`],
    },
    {
      what: 'password, access_token, refresh_token, client_secret, api_key, X-Api-Key, Authorization keys',
      text: JSON.stringify({
        password: 'p1-hunter2',
        access_token: 'p2-at',
        refresh_token: 'p3-rt',
        client_secret: 'p4-cs',
        api_key: 'p5-ak',
        'X-Api-Key': 'p6-xak',
        Authorization: 'Basic p7-b64',
        tokenTtl: 3600,
        sub_key: 'zpsk.wsx.0011',
      }),
      hidden: ['p1-', 'p2-', 'p3-', 'p4-', 'p5-', 'p6-', 'p7-'],
      shown: ['"tokenTtl":3600', '"sub_key":"zpsk.wsx.0011"'],
    },
    {
      what: 'values that are not strings (numbers, objects, arrays)',
      text: '{"password": 123456, "secret": {"k": "v-inner", "n": [1, 2]}, "tokens_left": 5, "token": ["t-1", "t-2"], "after": 1}',
      hidden: ['123456', 'v-inner', 't-1', 't-2'],
      shown: ['"tokens_left": 5', '"after": 1'],
    },
    {
      what: 'a quote inside a secret, and JSON carried inside a string',
      text: JSON.stringify({ password: 'hu"nt\\er2', data: JSON.stringify({ secret: 'in"ner-s3cret', ok: 'visible' }) }),
      hidden: ['nt', 'er2', 'ner-s3cret'],
      shown: ['visible'],
    },
    {
      what: 'an Authorization header and bare Basic / Bearer credentials in text',
      text: 'GET / HTTP/1.1\r\nAuthorization: Basic YWNtZTpjb3JyZWN0IGhvcnNl\r\nHost: x\r\n\r\nthen Bearer abcdef.ghijkl-123 and Basic Zm9vOmJhcg==',
      hidden: ['YWNtZTpjb3JyZWN0IGhvcnNl', 'abcdef.ghijkl-123', 'Zm9vOmJhcg'],
      shown: ['Host: x', 'Bearer ***', 'Basic ***'],
    },
    {
      what: 'JWT-looking strings (three, or five, base64url segments with a JSON header)',
      text:
        '{"data":{"jwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl-_x","jwe":"eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn",' +
        '"none":"eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.","service":"zato.helpers.echo","host":"db.internal.example.com"}}',
      hidden: ['eyJzdWIiOiJhZGEifQ', 'c2lnbmF0dXJl', 'a2V5', 'Y2lwaGVy', 'eyJzdWIiOiJib2IifQ'],
      shown: ['"service":"zato.helpers.echo"', '"host":"db.internal.example.com"'],
    },
    {
      what: 'passwords in URLs, query strings and key=value text',
      text: 'connect wss://ada:s3cr3t-pw@example.com/x?access_token=q-token-1&page=2 then password=hunter2; token: "t-quoted"',
      hidden: ['s3cr3t-pw', 'q-token-1', 'hunter2', 't-quoted'],
      shown: ['wss://ada:***@example.com/x', 'page=2'],
    },
    {
      what: 'a secret value cut short by truncation, and what a cut leaves of a JWT',
      text: '{"data":"x","secret":"abcdefgh and more eyJhbGciOiJIUzI1NiJ9.eyJzdWIi',
      hidden: ['abcdefgh', 'eyJzdWIi'],
      truncated: true,
    },
    {
      what: 'the end of a truncated text that is the start of a JWT',
      text: '{"data":"see eyJhbGciOiJIUzI1NiJ9.eyJzdWIi',
      hidden: ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIi'],
      shown: ['{"data":"see '],
      truncated: true,
    },
  ];
  for (const c of cases) {
    test(`masks ${c.what}`, () => {
      const masked = maskSecrets(c.text, c.truncated ?? false);
      for (const secret of c.hidden) assert.ok(!masked.includes(secret), `${secret} is visible in: ${masked}`);
      for (const part of c.shown ?? []) assert.ok(masked.includes(part), `${part} is missing from: ${masked}`);
      assert.ok(masked.includes(MASK), masked);
    });
  }

  test('masked JSON stays JSON', () => {
    const text = JSON.stringify({ meta: { token: 'zwsxt.00ff' }, data: { password: 'x"y', list: [{ secret: 1 }], ok: true } });
    const parsed = JSON.parse(maskSecrets(text)) as any;
    assert.deepEqual(parsed, { meta: { token: MASK }, data: { password: MASK, list: [{ secret: MASK }], ok: true } });
  });

  test('over a real connection: the create-session secret, the session token, a JWT session and JWT-looking data never leave', async () => {
    const tap = await TapStream.start(server.adminUrl, 'tap-secured');
    const jwtTap = await TapStream.start(server.adminUrl, 'tap-jwt');
    const client = await TestClient.connect(securedUrl);
    assert.equal((await client.createSession({ username: 'acme', secret: PASSWORD })).meta.msg_type, 'zwsx.rspa');
    const jwtLike = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldmUifQ.ZmFrZS1zaWduYXR1cmU';
    const request = {
      note: `here is ${jwtLike}`,
      headers: { Authorization: 'Bearer opaque-bearer-value' },
      link: 'https://u:pw-in-url@h/',
    };
    assert.deepEqual((await client.invoke(request)).data, request);

    const jwt = await new SignJWT({ sub: 'ada' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .sign(new TextEncoder().encode(JWT_KEY));
    const jwtClient = await TestClient.connect(jwtUrl);
    assert.equal((await jwtClient.createSession({ secret: jwt })).meta.msg_type, 'zwsx.rspa');
    await jwtClient.invoke({ again: jwt });

    await tap.waitFor(() => tap.frames().length >= 4, 5000, 'four frames');
    await jwtTap.waitFor(() => jwtTap.frames().length >= 4, 5000, 'four frames');
    const texts = [...tap.frames(), ...jwtTap.frames()].map((f) => f.text as string);
    const secrets = [
      PASSWORD,
      client.token!.slice(6),
      jwtClient.token!.slice(6),
      jwt,
      jwt.split('.')[1]!,
      'eyJzdWIiOiJldmUifQ',
      'opaque-bearer-value',
      'pw-in-url',
    ];
    for (const secret of secrets) for (const text of texts) assert.ok(!text.includes(secret), `${secret} leaked in ${text}`);
    assert.ok(texts[0]!.includes(`"secret":"${MASK}"`), texts[0]);
    assert.ok(texts[0]!.includes('"username":"acme"'), texts[0]);
    tap.close();
    jwtTap.close();
    client.close();
    jwtClient.close();
  });
});

describe('how far a tap goes', () => {
  test('under load (5,000 requests at once) it shows at most its rate each second, counts the rest as skipped, and every client gets its replies', async () => {
    const rate = 20;
    const tap = await TapStream.start(server.adminUrl, 'tap-plain', { rate: String(rate) });
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => counter(plainUrl)));
    const baseline = heapHeld();
    const payload = 'p'.repeat(4000);
    for (const { ws } of clients) for (let i = 0; i < 1000; i++) ws.send(`${i} ${payload}`);
    await waitFor(() => clients.every((c) => c.received() === 1000), 60_000, 'every reply');
    // While the tap still runs: what it holds is bounded by its rate, not by the traffic (40 MB of it here).
    const held = heapHeld() - baseline;
    assert.ok(held < 16 * 1024 * 1024, `the server holds ${held} bytes more`);

    const { tapId } = tap.started;
    assert.deepEqual((await server.api('DELETE', `/api/channels/wsx/tap-plain/taps/${tapId}`)).body, { stopped: tapId });
    const stopped = await tap.stopped();
    assert.equal(stopped.reason, 'stopped');
    const total = 10_000;
    const frames = tap.frames();
    const skipped = tap.events.filter((e) => e.type === 'skipped').reduce((n, e) => n + (e.data.count as number), 0);
    assert.equal(frames.length + skipped, total, 'every frame is shown or counted as skipped');
    assert.deepEqual([stopped.frames, stopped.skipped], [frames.length, skipped]);
    assert.ok(skipped > 0);
    // A marker comes before the next frame shown, and says exactly how many were skipped in between.
    let lastSeq = 0;
    let since = 0;
    for (const e of tap.events) {
      if (e.type === 'skipped') since += e.data.count;
      if (e.type !== 'frame') continue;
      assert.equal(e.data.seq, lastSeq + 1 + since, `frame ${e.data.seq}`);
      [lastSeq, since] = [e.data.seq, 0];
    }
    assert.equal(total - lastSeq, since, 'the last marker counts the frames skipped after the last one shown');
    const perSecond = new Map<number, number>();
    for (const f of frames)
      perSecond.set(Math.floor(Date.parse(f.at) / 1000), (perSecond.get(Math.floor(Date.parse(f.at) / 1000)) ?? 0) + 1);
    for (const [second, n] of perSecond) assert.ok(n <= rate, `${n} frames in second ${second}`);
    for (const { ws } of clients) ws.close();
  });

  test('a watcher that never reads is dropped, and the server does not hold what it did not read', async () => {
    const { port, hostname } = new URL(server.adminUrl);
    const socket: Socket = tcpConnect(Number(port), hostname);
    socket.pause();
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /api/channels/wsx/tap-plain/tap?rate=${TAP_LIMITS.maxRate} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`,
    );
    await waitFor(async () => (await tapsOf('tap-plain')).length === 1, 5000, 'the tap');
    const clients = await Promise.all([1, 2, 3, 4].map(() => counter(plainUrl)));
    const baseline = heapHeld();
    let peak = 0;
    let sent = 0;
    const payload = 'q'.repeat(8000);
    // Far more than the watcher's backlog limit, the kernel's socket buffers included, until the tap is gone.
    while ((await tapsOf('tap-plain')).length > 0) {
      assert.ok(sent < 40_000, 'the watcher was not dropped');
      for (const { ws } of clients) for (let i = 0; i < 100; i++) ws.send(payload);
      sent += 400;
      await waitFor(() => clients.every((c) => c.received() === sent / 4), 30_000, 'the replies');
      peak = Math.max(peak, heapHeld() - baseline);
      assert.ok(peak < 24 * 1024 * 1024, `the server holds ${peak} bytes more after ${sent} requests`);
    }
    assert.equal(socket.destroyed || socket.readableEnded || (await closedSoon(socket)), true);
    for (const { ws } of clients) ws.close();
  });

  test(`${TAP_LIMITS.maxTaps} taps at most: one more is 429 tap_limit_reached, and a stopped one frees its place`, async () => {
    const taps = [];
    for (let i = 0; i < TAP_LIMITS.maxTaps; i++) taps.push(await TapStream.start(server.adminUrl, 'tap-zato'));
    const refused = await TapStream.open(server.adminUrl, 'tap-zato');
    assert.equal(refused.status, 429);
    assert.equal(refused.error?.code, 'tap_limit_reached');
    assert.match(refused.error!.message, /10 taps/);
    assert.equal((await tapsOf('tap-zato')).length, TAP_LIMITS.maxTaps);
    taps.pop()!.close();
    await waitFor(async () => (await tapsOf('tap-zato')).length === TAP_LIMITS.maxTaps - 1, 5000, 'a free place');
    taps.push(await TapStream.start(server.adminUrl, 'tap-zato'));
    for (const tap of taps) tap.close();
    await waitFor(async () => (await tapsOf('tap-zato')).length === 0, 5000, 'no taps');
  });

  test('a tap stops when its watcher disconnects, when stopped through the API, after its duration and when idle', async () => {
    const watched = await TapStream.start(server.adminUrl, 'tap-zato');
    const listed = await tapsOf('tap-zato');
    assert.deepEqual(
      listed.map((t) => [t.tapId, t.pubClientId, t.startedBy, t.server]),
      [[watched.started.tapId, null, 'admin token', (await server.api('GET', '/api/health')).body.server]],
    );
    watched.close();
    await waitFor(async () => (await tapsOf('tap-zato')).length === 0, 5000, 'the tap to stop');

    const stoppedByApi = await TapStream.start(server.adminUrl, 'tap-zato');
    await server.api('DELETE', `/api/channels/wsx/tap-zato/taps/${stoppedByApi.started.tapId}`);
    assert.equal((await stoppedByApi.stopped()).reason, 'stopped');
    await stoppedByApi.ended;

    const short = await TapStream.start(server.adminUrl, 'tap-zato', { duration: '1' });
    assert.equal((await short.stopped(5000)).reason, 'max_duration');
    const idle = await TapStream.start(server.adminUrl, 'tap-zato', { idle: '1' });
    assert.equal((await idle.stopped(5000)).reason, 'idle');
    assert.deepEqual(await tapsOf('tap-zato'), []);
  });

  test('refusals: unknown channel or client, a channel not running, bad parameters, an unknown tap', async () => {
    await server.api('POST', '/api/channels/wsx', {
      name: 'tap-off',
      address: 'ws://127.0.0.1:1/off',
      service: 'zato.ping',
      isActive: false,
    });
    const cases: Array<[string, Record<string, string>, number, string, string?]> = [
      ['no-such-channel', {}, 404, 'channel_not_found'],
      ['tap-off', {}, 404, 'channel_not_running'],
      ['tap-zato', { pubClientId: 'ws.nobody' }, 404, 'client_not_found'],
      ['tap-zato', { rate: '0' }, 400, 'invalid_input', 'rate'],
      ['tap-zato', { rate: String(TAP_LIMITS.maxRate + 1) }, 400, 'invalid_input', 'rate'],
      ['tap-zato', { duration: '99999' }, 400, 'invalid_input', 'duration'],
      ['tap-zato', { idle: '0' }, 400, 'invalid_input', 'idle'],
      ['tap-zato', { rate: 'fast' }, 400, 'invalid_body'],
      ['tap-zato', { pubClientID: 'x' }, 400, 'invalid_body'],
    ];
    for (const [channel, query, status, code, field] of cases) {
      const res = await TapStream.open(server.adminUrl, channel, query);
      assert.equal(res.status, status, `${channel} ${JSON.stringify(query)}`);
      assert.equal(res.error?.code, code, `${channel} ${JSON.stringify(query)}`);
      if (field) assert.equal(res.error?.field, field);
    }
    const unknownTap = await server.api('DELETE', '/api/channels/wsx/tap-zato/taps/tap.0000');
    assert.deepEqual([unknownTap.status, unknownTap.body.error.code], [404, 'tap_not_found']);
    const elsewhere = await TapStream.start(server.adminUrl, 'tap-plain');
    const wrongChannel = await server.api('DELETE', `/api/channels/wsx/tap-zato/taps/${elsewhere.started.tapId}`);
    assert.deepEqual([wrongChannel.status, wrongChannel.body.error.code], [404, 'tap_not_found']);
    elsewhere.close();
    const noChannel = await server.api('GET', '/api/channels/wsx/no-such-channel/taps');
    assert.deepEqual([noChannel.status, noChannel.body.error.code], [404, 'channel_not_found']);
    assert.deepEqual(await tapsOf('tap-off'), []);
  });
});

describe('who may tap', () => {
  test('no credentials, a wrong token: 401; the web admin session: yes (stopping needs its CSRF token)', async () => {
    const none = await TapStream.open(server.adminUrl, 'tap-zato', {}, {});
    assert.deepEqual([none.status, none.error?.code], [401, 'unauthorized']);
    const wrong = await TapStream.open(server.adminUrl, 'tap-zato', {}, { authorization: 'Bearer not-the-token-at-all-no' });
    assert.deepEqual([wrong.status, wrong.error?.code], [401, 'unauthorized']);
    assert.deepEqual(await tapsOf('tap-zato'), []);

    const login = await fetch(`${server.adminUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TEST_TOKEN }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const opened = await TapStream.open(server.adminUrl, 'tap-zato', {}, { cookie });
    assert.equal(opened.status, 200);
    const tap = opened.stream!;
    await tap.waitFor((e) => e.type === 'started');
    assert.equal(tap.started.startedBy, 'admin');
    const path = `${server.adminUrl}/api/channels/wsx/tap-zato/taps/${tap.started.tapId}`;
    const forged = await fetch(path, { method: 'DELETE', headers: { cookie } });
    assert.equal(forged.status, 403);
    assert.equal((await tapsOf('tap-zato')).length, 1, 'a DELETE without the CSRF token stops nothing');
    const stop = await fetch(path, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } });
    assert.equal(stop.status, 200);
    assert.equal((await tap.stopped()).reason, 'stopped');
  });
});

describe('the admin server', () => {
  test("keeps a tap's stream open past its request timeouts (they bound receiving a request, not a response)", async () => {
    const other = await startTestServer({ adminHeadersTimeoutMs: 300, adminRequestTimeoutMs: 600 });
    try {
      const url = await createChannel(other, { name: 'tap-long', service: 'zato.helpers.echo', protocol: 'plain' });
      const tap = await TapStream.start(other.adminUrl, 'tap-long');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const client = await TestClient.connect(url);
      client.send('still there');
      await tap.waitFor((e) => e.type === 'frame' && e.data.text === 'still there', 5000, 'a frame after the timeouts');
      tap.close();
      client.close();
    } finally {
      await other.stop();
    }
  });

  test('ends its taps (stopped: server_stopping) and does not wait for their watchers', async () => {
    const other = await startTestServer();
    try {
      await createChannel(other, { name: 'tap-bye', service: 'zato.ping' });
      const tap = await TapStream.start(other.adminUrl, 'tap-bye');
      await other.stop();
      assert.equal((await tap.stopped()).reason, 'server_stopping');
      await tap.ended;
    } finally {
      await other.stop();
    }
  });
});

describe('in a cluster', postgresOnly('two servers on one PostgreSQL schema'), () => {
  test("a tap sees its own server's connections; a client of another server is refused, naming that server", async () => {
    // The channel listens on `low` on this server and on `low + offset` on the second (its portOffset).
    let [low, high] = [0, 0];
    while (high - low <= 0 || high - low > 10_000) [low, high] = [await freePort(), await freePort()].sort((x, y) => x - y);
    await server.api('POST', '/api/channels/wsx', {
      name: 'tap-cluster',
      address: `ws://127.0.0.1:${low}/c`,
      service: 'zato.helpers.echo',
    });
    const second = await startTestServer({ db: server.settings.db, portOffset: high - low, serverName: 'tap-second' });
    try {
      const remote = await TestClient.connect(`ws://127.0.0.1:${high}/c`);
      await remote.createSession({ client_id: 'on-the-second' });
      const local = await TestClient.connect(`ws://127.0.0.1:${low}/c`);
      await local.createSession({ client_id: 'on-this-one' });
      const remoteId = await waitFor(
        async () =>
          ((await server.api('GET', '/api/channels/wsx/tap-cluster/clients')).body as any[]).find(
            (c) => c.extClientId === 'on-the-second' && c.server === 'tap-second',
          )?.pubClientId as string | undefined,
        5000,
        "the second server's client in the list",
      );
      const refused = await TapStream.open(server.adminUrl, 'tap-cluster', { pubClientId: remoteId });
      assert.equal(refused.status, 404);
      assert.equal(refused.error?.code, 'client_not_found');
      assert.match(refused.error!.message, /connected to server tap-second/);

      const tap = await TapStream.start(server.adminUrl, 'tap-cluster');
      assert.equal(tap.started.server, (await server.api('GET', '/api/health')).body.server);
      await remote.invoke({ from: 'the second server' });
      await local.invoke({ from: 'this server' });
      await tap.waitFor(() => tap.frames().some((f) => f.text.includes('this server')), 5000, "this server's frame");
      assert.ok(
        tap.frames().every((f) => !f.text.includes('the second server')),
        "the other server's frames are not seen",
      );
      tap.close();
      remote.close();
      local.close();
    } finally {
      await second.stop();
      await server.api('DELETE', '/api/channels/wsx/tap-cluster');
    }
  });
});

/** Resolves true once the socket closes (a dropped watcher's socket is destroyed by the server). */
function closedSoon(socket: Socket): Promise<boolean> {
  socket.resume();
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    socket.once('close', () => resolve(true));
  });
}
