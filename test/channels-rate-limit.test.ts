import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { Service } from '../src/index.js';
import { TokenBucket, burstOf } from '../src/channels/wsx/token-bucket.js';
import { HandshakeRates } from '../src/channels/wsx/handshake-rates.js';
import { EXCESS_MAX_REFUSALS, MessageRate, type RateLimited } from '../src/channels/wsx/message-rate.js';
import { normalizeChannel } from '../src/channels/wsx/config.js';
import { refusedUpgrade } from './helpers/upgrade.js';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, type TestServer } from './helpers/server.js';

/** Counts the messages it is given (so a test can prove a refused message was not handled). */
class Count extends Service {
  static override serviceName = 'test.count';
  static calls = 0;
  handle(): void {
    Count.calls++;
    this.response.payload = { calls: Count.calls };
  }
}

describe('token bucket (injected clock)', () => {
  test('a full bucket gives its burst at once, then one token per 1/rate seconds', () => {
    const bucket = new TokenBucket(0, 3);
    assert.deepEqual(
      [0, 0, 0, 0].map(() => bucket.take(0, 2, 3)),
      [true, true, true, false],
    );
    assert.equal(bucket.secondsToNext(2), 1);
    assert.equal(bucket.take(400, 2, 3), false, '0.8 of a token');
    assert.equal(bucket.take(500, 2, 3), true, 'one token after 1/rate s');
    assert.equal(bucket.take(500, 2, 3), false);
    // Refill stops at the burst, however long it was idle.
    assert.equal(bucket.isFull(1_000_000, 2, 3), true);
    assert.deepEqual(
      [0, 0, 0, 0].map(() => bucket.take(1_000_000, 2, 3)),
      [true, true, true, false],
    );
  });

  test('a clock going back earns nothing; a low rate says how long to wait', () => {
    const bucket = new TokenBucket(10_000, 1);
    assert.equal(bucket.take(10_000, 0.1, 1), true);
    assert.equal(bucket.take(5_000, 0.1, 1), false);
    assert.equal(bucket.secondsToNext(0.1), 10);
  });

  test('the default burst is one second of the rate, at least one', () => {
    assert.equal(burstOf(10, null), 10);
    assert.equal(burstOf(2.5, null), 3);
    assert.equal(burstOf(0.01, null), 1);
    assert.equal(burstOf(10, 50), 50);
  });
});

describe('handshake buckets', () => {
  test('the table never holds more than its bound: the address used longest ago is evicted', () => {
    const table = new HandshakeRates(3);
    for (const ip of ['a', 'b', 'c']) assert.equal(table.take(ip, 0, 1, 1), 0);
    assert.ok(table.take('a', 0, 1, 1) > 0, 'a is over its burst');
    for (let i = 0; i < 10_000; i++) table.take(`v6-${i}`, 0, 1, 1);
    assert.equal(table.size, 3);
    // `a` was evicted, so it starts again with a full bucket (failing open for one address).
    assert.equal(table.take('a', 0, 1, 1), 0);
  });

  test('prune drops buckets that have refilled and keeps the others; Retry-After is the wait for one token', () => {
    const table = new HandshakeRates();
    table.take('old', 0, 1, 2);
    table.take('new', 1500, 1, 2);
    table.take('new', 1500, 1, 2);
    assert.equal(table.take('new', 1500, 1, 2), 1);
    table.prune(2000, 1, 2);
    assert.equal(table.size, 1, 'old has refilled, new has not');
    table.prune(2000, null, null);
    assert.equal(table.size, 0, 'the limit turned off drops everything');
  });
});

describe('persistent excess (injected clock)', () => {
  function fakeClient(): RateLimited & { frames: string[]; closed: Array<[number, string]>; codes: string[] } {
    const frames: string[] = [];
    const closed: Array<[number, string]> = [];
    const codes: string[] = [];
    return {
      protocol: 'plain',
      frames,
      closed,
      codes,
      push: (f) => frames.push(f) > 0,
      close: (code, reason) => void closed.push([code, reason]),
    };
  }
  const host = (codes: string[]) => ({
    config: normalizeChannel({ name: 'x', address: 'ws://127.0.0.1:1/x', service: 's', messageRate: 1, messageBurst: 1 }),
    protocolError: (code: string) => void codes.push(code),
  });

  test(`${EXCESS_MAX_REFUSALS} refusals in one run close with 1008; one error frame per refusal before that`, () => {
    const client = fakeClient();
    const rate = new MessageRate();
    const h = host(client.codes);
    assert.equal(rate.refused(client, h, 0, Buffer.from('m')), false);
    for (let i = 1; i < EXCESS_MAX_REFUSALS; i++) assert.equal(rate.refused(client, h, i, Buffer.from('m')), true);
    assert.equal(client.frames.length, EXCESS_MAX_REFUSALS - 1);
    assert.deepEqual(JSON.parse(client.frames[0]!).error.code, 'rate_limited');
    assert.equal(client.closed.length, 0);
    assert.equal(rate.refused(client, h, 200, Buffer.from('m')), true);
    assert.deepEqual(client.closed, [[1008, 'Message rate exceeded']]);
    assert.equal(client.codes.filter((c) => c === 'rate_limit_exceeded').length, 1);
  });

  test('a run lasting 5 s closes; a gap of 1 s without refusals ends the run', () => {
    const client = fakeClient();
    const rate = new MessageRate();
    const h = host(client.codes);
    // Two messages a second against a rate of one: refused every second, never a 1 s gap.
    let t = 0;
    for (; t < 4900; t += 500) rate.refused(client, h, t, Buffer.from('m'));
    assert.equal(client.closed.length, 0);
    for (; t <= 5500 && client.closed.length === 0; t += 500) rate.refused(client, h, t, Buffer.from('m'));
    assert.deepEqual(client.closed, [[1008, 'Message rate exceeded']]);

    // One message a second at a rate of one is never refused; bursts with pauses of over 1 s are never closed.
    const calm = fakeClient();
    const calmRate = new MessageRate();
    const ch = host(calm.codes);
    for (let s = 0; s < 60; s++) {
      calmRate.refused(calm, ch, s * 2000, Buffer.from('m'));
      calmRate.refused(calm, ch, s * 2000 + 1, Buffer.from('m'));
    }
    assert.equal(calm.frames.length, 60);
    assert.equal(calm.closed.length, 0);
  });
});

let server: TestServer;
before(async () => {
  server = await startTestServer();
  server.registry.replaceSource('rate', [{ name: Count.serviceName, cls: Count }]);
  const sec = await server.api('POST', '/api/security', { name: 'rate-basic', type: 'basic_auth', username: 'u', password: 'p' });
  assert.equal(sec.status, 201);
});
after(() => server.stop());

async function metric(code: string): Promise<number> {
  const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`switchboard_errors_total{code="${code}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('message rate over real connections', () => {
  test('off by default: new channels have no message or handshake rate and no compression', async () => {
    await createChannel(server, { name: 'rate-defaults', service: 'test.count' });
    const body = (await server.api('GET', '/api/channels/wsx/rate-defaults')).body as Record<string, unknown>;
    assert.deepEqual(
      [body.messageRate, body.messageBurst, body.handshakeRate, body.handshakeBurst, body.compression],
      [null, null, null, null, false],
    );
  });

  test('WSX: a message over the rate gets 429 rate_limited in reply to its id and is not handled', async () => {
    // A rate this low never refills during the test: the burst alone decides. create-session takes a token too.
    const url = await createChannel(server, { name: 'rate-zato', service: 'test.count', messageRate: 0.001, messageBurst: 3 });
    const before = await metric('rate_limited');
    const client = await TestClient.connect(url);
    await client.createSession();
    Count.calls = 0;
    assert.equal((await client.invoke({})).meta.status, 200);
    assert.equal((await client.invoke({})).meta.status, 200);
    const refused = await client.invoke({});
    assert.equal(refused.meta.msg_type, 'zwsx.rsperr');
    assert.equal(refused.meta.status, 429);
    assert.match(refused.meta.error_message ?? '', /at most 0\.001 messages per second/);
    assert.equal(Count.calls, 2, 'the refused call never reached the service');
    assert.equal(client.ws.readyState, WebSocket.OPEN, 'one refusal does not close');
    assert.equal((await metric('rate_limited')) - before, 1);
    client.close();
  });

  test('WSX: a refused create-session is answered without in_reply_to (Zato clients take any reply for the session)', async () => {
    const url = await createChannel(server, { name: 'rate-session', service: 'test.count', messageRate: 0.001, messageBurst: 1 });
    const client = await TestClient.connect(url);
    assert.equal((await client.createSession()).meta.msg_type, 'zwsx.rspa');
    const again = await client.createSession();
    assert.equal(again.meta.msg_type, 'zwsx.merr');
    assert.equal(again.meta.status, 429);
    assert.equal(again.meta.in_reply_to, undefined);
    client.close();
  });

  test('plain: the refusal is the plain error JSON and the service is not called', async () => {
    const url = await createChannel(server, {
      name: 'rate-plain',
      service: 'test.count',
      protocol: 'plain',
      dataFormat: 'json',
      messageRate: 0.001,
      messageBurst: 1,
    });
    const client = await TestClient.connect(url);
    Count.calls = 0;
    client.send({ n: 1 });
    client.send({ n: 2 });
    assert.deepEqual(JSON.parse(await client.nextText()), { calls: 1 });
    const error = JSON.parse(await client.nextText()) as { error: { code: string; status: number } };
    assert.deepEqual([error.error.code, error.error.status], ['rate_limited', 429]);
    assert.equal(Count.calls, 1);
    client.close();
  });

  test('a flood is closed with 1008 after at most 100 refusals; nothing of it is handled', async () => {
    const url = await createChannel(server, {
      name: 'rate-flood',
      service: 'test.count',
      protocol: 'plain',
      messageRate: 0.001,
      messageBurst: 1,
    });
    const before = await metric('rate_limit_exceeded');
    const client = await TestClient.connect(url);
    Count.calls = 0;
    for (let i = 0; i < 1000; i++) client.send(`m${i}`);
    const closed = await client.closed;
    assert.deepEqual(closed, { code: 1008, reason: 'Message rate exceeded' });
    assert.equal(Count.calls, 1);
    const errors = client.received.filter((r) => r.data.toString().includes('rate_limited')).length;
    assert.equal(errors, EXCESS_MAX_REFUSALS - 1, 'one error frame per refusal until the close, none after');
    assert.equal((await metric('rate_limit_exceeded')) - before, 1);
  });

  test('a live change of messageRate applies at once to connections opened under a rate', async () => {
    const url = await createChannel(server, { name: 'rate-live', service: 'test.count', protocol: 'plain', messageRate: 1000 });
    const client = await TestClient.connect(url);
    const config = (await server.api('GET', '/api/channels/wsx/rate-live')).body as Record<string, unknown>;
    delete config.runtime;
    const put = await server.api('PUT', '/api/channels/wsx/rate-live', { ...config, messageRate: 0.001, messageBurst: 1 });
    assert.equal(put.status, 200);
    client.send('a');
    client.send('b');
    await client.nextText();
    assert.match(await client.nextText(), /rate_limited/);
    client.close();
  });
});

describe('handshake rate per IP', () => {
  test('over the burst the upgrade is answered 429 with Retry-After, per address', async () => {
    const url = await createChannel(server, {
      name: 'hs-rate',
      service: 'test.count',
      protocol: 'plain',
      handshakeRate: 0.01,
      handshakeBurst: 2,
    });
    const before = await metric('handshake_rate_limited');
    assert.equal(await refusedUpgrade(url, { localAddress: '127.0.0.1' }), 'open');
    assert.equal(await refusedUpgrade(url, { localAddress: '127.0.0.1' }), 'open');
    assert.deepEqual(await refusedUpgrade(url, { localAddress: '127.0.0.1' }), {
      status: 429,
      retryAfter: '100',
      code: 'handshake_rate_limited',
    });
    // Another address has its own bucket.
    assert.equal(await refusedUpgrade(url, { localAddress: '127.0.0.2' }), 'open');
    assert.equal((await metric('handshake_rate_limited')) - before, 1);
  });

  test('the refusal comes before the credentials are checked (no password hash per attempt)', async () => {
    const url = await createChannel(server, {
      name: 'hs-auth',
      service: 'test.count',
      protocol: 'plain',
      security: 'rate-basic',
      handshakeRate: 0.01,
      handshakeBurst: 2,
    });
    const wrong = { headers: { authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` } };
    const outcomes: Array<Awaited<ReturnType<typeof refusedUpgrade>>> = [];
    for (let i = 0; i < 4; i++) outcomes.push(await refusedUpgrade(url, wrong));
    assert.deepEqual(
      outcomes.map((o) => (o === 'open' ? o : o.status)),
      [401, 401, 429, 429],
    );
    // Even good credentials wait for the bucket: nothing is verified while it is empty.
    const good = await refusedUpgrade(url, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
    assert.equal(good === 'open' ? good : good.code, 'handshake_rate_limited');
  });
});
