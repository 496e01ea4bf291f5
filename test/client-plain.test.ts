// connectPlain against a real server's plain channels: messages both ways, the same reconnect policy as connect()
// (exponential backoff with full jitter, each `reconnecting` announcing the next attempt and its delay; messages
// sent while disconnected go out after the reconnect, in order), JWTs in a header (Node entry) or as access_token
// (the browser entry's way), a JWT that expires (4004: closed, or reconnected with a provider's fresh token), and
// bytes on a text channel.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { connectPlain as browserConnectPlain, type WebSocketConstructor } from '../src/client/index.js';
import {
  AuthError,
  ClientError,
  connect,
  connectPlain,
  type InitialListeners,
  type PlainClient,
  type StateEvents,
  type SwitchboardClient,
} from '../src/client/node.js';
import { backoffCeiling } from '../src/protocol/index.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

const SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
let server: TestServer;
let jsonUrl: string;
let textUrl: string;
let jwtUrl: string;
let expiringUrl: string;
let gatewayUrl: string;
let originUrl: string;
const clients: Array<PlainClient | SwitchboardClient> = [];

before(async () => {
  server = await startTestServer();
  jsonUrl = await createChannel(server, {
    name: 'echo-json',
    service: 'zato.helpers.echo',
    protocol: 'plain',
    dataFormat: 'json',
  });
  textUrl = await createChannel(server, { name: 'echo-text', service: 'zato.helpers.echo', protocol: 'plain' }, '/text');
  const res = await server.api('POST', '/api/security', { name: 'plain-jwt', type: 'jwt', secret: SECRET });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  jwtUrl = await createChannel(
    server,
    { name: 'echo-jwt', service: 'zato.helpers.echo', protocol: 'plain', dataFormat: 'json', security: 'plain-jwt' },
    '/jwt',
  );
  const short = await server.api('POST', '/api/security', {
    name: 'plain-jwt-0',
    type: 'jwt',
    secret: SECRET,
    clockTolerance: 0,
  });
  assert.equal(short.status, 201, JSON.stringify(short.body));
  expiringUrl = await createChannel(
    server,
    { name: 'echo-expiring', service: 'zato.helpers.echo', protocol: 'plain', dataFormat: 'json', security: 'plain-jwt-0' },
    '/expiring',
  );
  gatewayUrl = await createChannel(server, { name: 'policy-gw', service: 'helpers.web-sockets-gateway' }, '/gw');
  originUrl = await createChannel(
    server,
    { name: 'origin-gw', service: 'helpers.web-sockets-gateway', allowedOrigins: ['https://good.example'] },
    '/origin',
  );
});
after(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

function jwt(): Promise<string> {
  return new SignJWT({ sub: 'p' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

/** A JWT that expires in `seconds` to `seconds` + 1 (exp rounded up: never expired on arrival). */
function expiringJwt(seconds: number): Promise<string> {
  return new SignJWT({ sub: 'p' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.ceil(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

/** Every state event of a client, with the time it came. */
type Recorded = { name: keyof StateEvents; at: number; event: unknown };
function recorder(): { events: Recorded[]; on: InitialListeners<StateEvents> } {
  const events: Recorded[] = [];
  const listen = (name: keyof StateEvents) => (event: unknown) => void events.push({ name, at: performance.now(), event });
  const on = {
    connecting: listen('connecting'),
    open: listen('open'),
    reconnecting: listen('reconnecting'),
    closed: listen('closed'),
  };
  return { events, on };
}

/** Every message a client receives, in order. */
function inbox(c: PlainClient): unknown[] {
  const got: unknown[] = [];
  c.onMessage((m) => got.push(m));
  return got;
}

/** Starts or stops a channel (PUT takes the whole definition). */
async function setActive(name: string, isActive: boolean): Promise<void> {
  const config = (await server.api('GET', `/api/channels/wsx/${name}`)).body;
  delete config.runtime;
  const res = await server.api('PUT', `/api/channels/wsx/${name}`, { ...config, isActive });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function clientIds(channel: string): Promise<string[]> {
  const list = (await server.api('GET', `/api/channels/wsx/${channel}/clients`)).body as Array<{ pubClientId: string }>;
  return list.map((c) => c.pubClientId);
}

describe('connectPlain', () => {
  test('JSON messages both ways; text and bytes on a text channel', async () => {
    const c = await connectPlain(jsonUrl);
    clients.push(c);
    const got = inbox(c);
    await c.send({ a: 1 });
    await c.send([1, 'two']);
    await waitFor(() => got.length === 2);
    assert.deepEqual(got, [{ a: 1 }, [1, 'two']]);
    const t = await connectPlain(textUrl, { dataFormat: 'text' });
    clients.push(t);
    const texts = inbox(t);
    await t.send('hello');
    await t.send(new Uint8Array([1, 2, 3]));
    await waitFor(() => texts.length === 2);
    assert.equal(texts[0], 'hello');
    assert.deepEqual([...(texts[1] as Uint8Array)], [1, 2, 3]);
    const bad = await t.send({ not: 'text' }).catch((e: unknown) => e);
    assert.ok(bad instanceof ClientError && bad.code === 'invalid_data');
  });

  test('reconnects with backoff after a disconnect; messages sent meanwhile go out after it, in order', async () => {
    const events: Array<keyof StateEvents> = [];
    const c = await connectPlain(jsonUrl, {
      reconnect: { initial: 0.05, max: 0.2 },
      on: { open: () => events.push('open'), reconnecting: () => events.push('reconnecting') },
    });
    clients.push(c);
    const got = inbox(c);
    const sent: Array<Promise<void>> = [];
    const off = c.on('reconnecting', (e) => {
      off();
      assert.ok(e.delayMs >= 0 && e.attempt === 1);
      for (let i = 0; i < 5; i++) sent.push(c.send({ i }));
    });
    const [id] = await waitFor(() => clientIds('echo-json').then((ids) => (ids.length > 0 ? ids : undefined)));
    for (const other of await clientIds('echo-json')) await server.api('DELETE', `/api/channels/wsx/echo-json/clients/${other}`);
    await waitFor(() => sent.length === 5, 3000, 'the reconnecting event');
    await Promise.all(sent);
    await waitFor(() => got.length === 5, 3000, 'the echoes');
    assert.deepEqual(
      got,
      [0, 1, 2, 3, 4].map((i) => ({ i })),
    );
    assert.deepEqual(events, ['open', 'reconnecting', 'open']);
    assert.ok(id);
  });

  test('the channel stopped for a while: reconnect attempts back off until it is back', async () => {
    const attempts: number[] = [];
    const c = await connectPlain(jsonUrl, {
      reconnect: { initial: 0.05, max: 0.2 },
      on: { reconnecting: (e) => attempts.push(e.attempt) },
    });
    clients.push(c);
    const got = inbox(c);
    await setActive('echo-json', false);
    await waitFor(() => attempts.length >= 3, 5000, 'three failed attempts');
    const pending = c.send('after');
    await setActive('echo-json', true);
    await pending;
    await waitFor(() => got.length === 1, 5000, 'the echo');
    assert.deepEqual(got, ['after']);
    assert.deepEqual(attempts.slice(0, 3), [1, 2, 3], 'attempts counted up while the channel was away');
  });

  test('a JWT: the Node entry sends it as a Bearer header, the browser entry as access_token', async () => {
    const viaHeader = await connectPlain(jwtUrl, { token: jwt });
    clients.push(viaHeader);
    const viaQuery = await browserConnectPlain(jwtUrl, {
      token: await jwt(),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    clients.push(viaQuery);
    for (const c of [viaHeader, viaQuery]) {
      const got = inbox(c);
      await c.send({ ok: true });
      await waitFor(() => got.length === 1);
      assert.deepEqual(got, [{ ok: true }]);
    }
    const refused = await connectPlain(jwtUrl, { token: 'not-a-jwt' }).catch((e: unknown) => e);
    assert.ok(refused instanceof AuthError && refused.code === 'invalid_credentials' && refused.status === 401, String(refused));
  });

  test('a refused upgrade (the Node entry reads the HTTP answer): credentials end the client at once, even with retryFirstConnect; other refusals are retried', async () => {
    // Bounded, so that a loop fails the test instead of running for ever.
    const fast = { reconnect: { initial: 0.01, max: 0.02 }, retryFirstConnect: true, maxReconnectAttempts: 5 };
    const plain = recorder();
    const badToken = await connectPlain(jwtUrl, { ...fast, token: 'not-a-jwt', on: plain.on }).catch((e: unknown) => e);
    assert.ok(badToken instanceof AuthError, String(badToken));
    assert.equal(badToken.code, 'invalid_credentials');
    assert.equal(badToken.status, 401);
    assert.match(badToken.message, /HTTP 401 invalid_credentials: Valid credentials are required/);
    const badBasic = await connectPlain(jwtUrl, { ...fast, username: 'u', secret: 'p' }).catch((e: unknown) => e);
    assert.ok(badBasic instanceof AuthError && badBasic.status === 401, String(badBasic));
    // An origin the channel does not allow (403) on a zato channel: connect() ends too.
    const wsx = recorder();
    const badOrigin = await connect(originUrl, { ...fast, headers: { origin: 'https://evil.example' }, on: wsx.on }).catch(
      (e: unknown) => e,
    );
    assert.ok(
      badOrigin instanceof AuthError && badOrigin.code === 'origin_not_allowed' && badOrigin.status === 403,
      String(badOrigin),
    );
    for (const { events } of [plain, wsx]) {
      assert.deepEqual(
        events.map((e) => e.name),
        ['connecting', 'closed'],
        'one attempt, no reconnect loop',
      );
    }
    const good = await connect(originUrl, { headers: { origin: 'https://good.example' } });
    clients.push(good);
    // No channel at the path (404): not about credentials, so it is retried, and the error says what the server said.
    const nowhere = jsonUrl.replace(/\/[^/]*$/, '/no-channel-here');
    const first = await connectPlain(nowhere).catch((e: unknown) => e);
    assert.ok(first instanceof ClientError && !(first instanceof AuthError), String(first));
    assert.equal(first.code, 'not_connected');
    assert.equal(first.status, 404);
    assert.match(first.message, /HTTP 404 not_found/);
    const retried = recorder();
    const gaveUp = await connectPlain(nowhere, { ...fast, maxReconnectAttempts: 2, on: retried.on }).catch((e: unknown) => e);
    assert.ok(gaveUp instanceof ClientError && /Gave up after 2/.test(gaveUp.message), String(gaveUp));
    assert.equal(retried.events.filter((e) => e.name === 'connecting').length, 3);
  });

  test('a static JWT that expires: the server closes with 4004 and the client ends with token_expired, no reconnect loop', async () => {
    const { events, on } = recorder();
    const c = await connectPlain(expiringUrl, { token: await expiringJwt(1), on, reconnect: { initial: 0.01, max: 0.01 } });
    clients.push(c);
    await waitFor(() => c.state === 'closed', 5000, 'the close after exp');
    const closed = events.at(-1)!.event as StateEvents['closed'];
    assert.equal(closed.code, 4004);
    assert.ok(closed.error instanceof AuthError && closed.error.code === 'token_expired', String(closed.error));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      events.map((e) => e.name),
      ['connecting', 'open', 'closed'],
    );
    const after = await c.send(1).catch((e: unknown) => e);
    assert.ok(after instanceof ClientError && after.code === 'connection_stopped');
  });

  test('after a 4004 a token provider, or a setToken() made in time, reconnects with the fresh token', async () => {
    let issued = 0;
    const provided = recorder();
    const withProvider = await connectPlain(expiringUrl, {
      token: () => expiringJwt(++issued === 1 ? 1 : 60),
      on: provided.on,
      reconnect: { initial: 0.01, max: 0.05 },
    });
    clients.push(withProvider);
    const replaced = recorder();
    const withSetToken = await connectPlain(expiringUrl, {
      token: await expiringJwt(1),
      on: replaced.on,
      reconnect: { initial: 0.01, max: 0.05 },
    });
    clients.push(withSetToken);
    withSetToken.setToken(await expiringJwt(60));
    for (const [c, { events }] of [
      [withProvider, provided],
      [withSetToken, replaced],
    ] as const) {
      await waitFor(() => events.filter((e) => e.name === 'open').length === 2, 6000, 'the reconnect after exp');
      const lost = events.find((e) => e.name === 'reconnecting')!.event as StateEvents['reconnecting'];
      assert.equal(lost.code, 4004);
      const got = inbox(c);
      await c.send({ still: 'here' });
      await waitFor(() => got.length === 1);
      assert.deepEqual(got, [{ still: 'here' }]);
    }
    assert.equal(issued, 2);
  });

  test('close() rejects messages still waiting with connection_stopped', async () => {
    const c = await connectPlain(jsonUrl, { reconnect: { initial: 5, max: 5 } });
    await setActive('echo-json', false);
    await waitFor(() => c.state === 'reconnecting', 3000, 'the loss');
    const waiting = c.send(1).catch((e: unknown) => e);
    await c.close();
    const err = await waiting;
    assert.ok(err instanceof ClientError && err.code === 'connection_stopped');
    await setActive('echo-json', true);
  });
});

describe('the reconnect policy, the same for connectPlain and connect', () => {
  const reconnect = { initial: 0.05, factor: 2, max: 1 };
  for (const kind of ['connectPlain', 'connect'] as const)
    test(`${kind}: exponential backoff with full jitter; each reconnecting announces the next attempt and its delay`, async () => {
      const [channel, address] = kind === 'connectPlain' ? ['echo-json', jsonUrl] : ['policy-gw', gatewayUrl];
      const { events, on } = recorder();
      const c =
        kind === 'connectPlain' ? await connectPlain(address, { reconnect, on }) : await connect(address, { reconnect, on });
      clients.push(c);
      await setActive(channel, false);
      try {
        await waitFor(() => events.filter((e) => e.name === 'reconnecting').length >= 7, 10_000, 'seven failed attempts');
      } finally {
        await setActive(channel, true);
      }
      await waitFor(() => events.filter((e) => e.name === 'open').length === 2, 5000, 'the reconnect');
      const since = events.slice(events.findIndex((e) => e.name === 'reconnecting'));
      const delays: number[] = [];
      for (const [n, announced] of since.filter((e) => e.name === 'reconnecting').entries()) {
        const { attempt, delayMs } = announced.event as StateEvents['reconnecting'];
        assert.equal(attempt, n + 1, 'attempts counted from 1 since the loss');
        const ceiling = backoffCeiling(n, reconnect);
        assert.ok(delayMs >= 0 && delayMs <= ceiling, `attempt ${attempt}: ${delayMs} ms, over its ceiling of ${ceiling} ms`);
        const next = since[since.indexOf(announced) + 1]!;
        assert.equal(next.name, 'connecting');
        assert.equal((next.event as StateEvents['connecting']).attempt, attempt, 'the attempt announced is the one made');
        // Timers never fire early; 2 ms for the clocks' rounding.
        assert.ok(
          next.at - announced.at >= delayMs - 2,
          `attempt ${attempt} came after ${next.at - announced.at} ms, not ${delayMs}`,
        );
        delays.push(delayMs);
      }
      // Exponential: the later ceilings are 4 to 20 times the first (all five at most 50 ms: p < 1e-5); jittered.
      assert.ok(Math.max(...delays.slice(2, 7)) > backoffCeiling(0, reconnect), `delays ${delays.join(', ')}`);
      assert.ok(new Set(delays).size > 1, `delays ${delays.join(', ')}`);
      assert.deepEqual(events.at(-1), { ...events.at(-1)!, name: 'open', event: { reconnected: true } });
    });
});
