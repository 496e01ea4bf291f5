// switchboard/client in Node against a real server: calls and their typed errors, the server's requests answered,
// pub/sub in order with acknowledgements, bad credentials, and what happens to calls when a connection is lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from '../src/index.js';
import {
  AuthError,
  ClientError,
  ServerError,
  connect,
  type PubSubMessage,
  type StateEvents,
  type SwitchboardClient,
} from '../src/client/node.js';
import { deployTestServices } from './helpers/services.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

/** Counts its calls (the client must not send a call twice that the server answered). */
class Count extends Service {
  static override serviceName = 'test.count';
  static calls = 0;
  handle(): void {
    this.response.payload = { n: ++Count.calls };
  }
}

let server: TestServer;
let url: string;
let securedUrl: string;
const clients: SwitchboardClient[] = [];

before(async () => {
  server = await startTestServer();
  deployTestServices(server);
  server.registry.replaceSource('client-test', [{ name: Count.serviceName, cls: Count }]);
  url = await createChannel(server, { name: 'gw', service: 'helpers.web-sockets-gateway', gatewayServices: ['test.*'] });
  const sec = await server.api('POST', '/api/security', {
    name: 'users',
    type: 'basic_auth',
    username: 'alice',
    password: 'pw-1',
  });
  assert.equal(sec.status, 201, JSON.stringify(sec.body));
  securedUrl = await createChannel(
    server,
    { name: 'gw-secured', service: 'helpers.web-sockets-gateway', security: 'users', gatewayServices: ['test.*'] },
    '/secured',
  );
});
after(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

async function client(options: Parameters<typeof connect>[1] = {}, address = url): Promise<SwitchboardClient> {
  const c = await connect(address, { reconnect: { initial: 0.05, max: 0.5 }, ...options });
  clients.push(c);
  return c;
}

/** The pubClientId of the connected client with this client_id. */
async function pubClientId(channel: string, clientId: string): Promise<string> {
  const found = await waitFor(async () => {
    const list = (await server.api('GET', `/api/channels/wsx/${channel}/clients`)).body as Array<Record<string, string>>;
    return list.find((c) => c.extClientId === clientId && c.hasSession);
  });
  return found.pubClientId!;
}

/** Records a client's state events in order. */
function recorder(c: SwitchboardClient): Array<{ name: keyof StateEvents; event: unknown }> {
  const seen: Array<{ name: keyof StateEvents; event: unknown }> = [];
  for (const name of ['connecting', 'open', 'reconnecting', 'closed'] as const) c.on(name, (event) => seen.push({ name, event }));
  return seen;
}

describe('calls', () => {
  test('invoke resolves with the response; errors are ServerErrors with the server code and status', async () => {
    const c = await client();
    assert.equal(c.state, 'open');
    assert.deepEqual(await c.invoke('test.add', { a: 2, b: 3 }), { sum: 5 });
    assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
    const notAllowed = await c.invoke('demo.not-allowed').catch((e: unknown) => e);
    assert.ok(notAllowed instanceof ServerError);
    assert.equal(notAllowed.code, 'service_not_allowed');
    assert.equal(notAllowed.status, 403);
    const invalid = await c.invoke('test.add', { a: 'x' }).catch((e: unknown) => e);
    assert.ok(invalid instanceof ServerError && invalid.code === 'invalid_input' && invalid.status === 400);
    const teapot = await c.invoke('test.teapot').catch((e: unknown) => e);
    assert.ok(teapot instanceof ServerError && teapot.code === 'teapot' && teapot.status === 418);
    const boom = await c.invoke('test.boom').catch((e: unknown) => e);
    assert.ok(boom instanceof ServerError && boom.code === 'internal_error' && typeof boom.cid === 'string');
  });

  test('a call not answered in time rejects with response_timeout; concurrent calls each get their own reply', async () => {
    const c = await client();
    const late = await c.invoke('test.slow', { ms: 1000, value: 1 }, { timeout: 50 }).catch((e: unknown) => e);
    assert.ok(late instanceof ClientError && late.code === 'response_timeout');
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => c.invoke('test.slow', { ms: 50 - i, value: i })));
    assert.deepEqual(
      values,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test("more calls at once than the channel's maxInFlight (100): they wait their turn, none is refused with 429", async () => {
    const c = await client();
    const values = await Promise.all(Array.from({ length: 350 }, (_, i) => c.invoke('test.slow', { ms: 20, value: i })));
    assert.deepEqual(
      values,
      Array.from({ length: 350 }, (_, i) => i),
    );
    const unpaced = await client({ maxInFlight: 1000 });
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, () =>
        unpaced.invoke('test.slow', { ms: 50 }).then(
          () => 'ok',
          (e: ClientError) => e.code,
        ),
      ),
    );
    assert.ok(outcomes.includes('too_many_requests'), 'without the window the server refuses some');
  });

  test('calls made while disconnected go out after the reconnect; answered calls are never sent again', async () => {
    const c = await client({ clientId: 'resend-check' });
    const events = recorder(c);
    Count.calls = 0;
    await Promise.all(Array.from({ length: 20 }, () => c.invoke('test.count')));
    assert.equal(Count.calls, 20);
    const id = await pubClientId('gw', 'resend-check');
    // Made the moment the loss is seen, while there is no connection.
    const queued = new Promise((resolve, reject) => {
      const off = c.on('reconnecting', () => {
        off();
        assert.equal(c.state, 'reconnecting');
        c.invoke('test.count').then(resolve, reject);
      });
    });
    assert.equal((await server.api('DELETE', `/api/channels/wsx/gw/clients/${id}`)).status, 200);
    assert.deepEqual(await queued, { n: 21 });
    assert.equal(Count.calls, 21);
    const reconnecting = events.find((e) => e.name === 'reconnecting')?.event as StateEvents['reconnecting'];
    assert.equal(reconnecting.code, 4005);
    assert.equal(reconnecting.attempt, 1);
    assert.ok(reconnecting.delayMs >= 0);
    assert.ok(events.some((e) => e.name === 'open' && (e.event as StateEvents['open']).reconnected));
  });

  test('a call whose connection is lost before its reply is sent again (resend: false rejects it instead)', async () => {
    const c = await client({ clientId: 'in-flight' });
    const id = await pubClientId('gw', 'in-flight');
    const resent = c.invoke('test.slow', { ms: 300, value: 'again' });
    const once = c.invoke('test.slow', { ms: 300, value: 'once' }, { resend: false }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await server.api('DELETE', `/api/channels/wsx/gw/clients/${id}`);
    assert.equal(await resent, 'again');
    const lost = await once;
    assert.ok(lost instanceof ClientError && lost.code === 'connection_closed', String(lost));
  });

  test('close() rejects waiting calls with connection_stopped and emits closed once', async () => {
    const c = await client();
    const events = recorder(c);
    const waiting = c.invoke('test.slow', { ms: 2000 }).catch((e: unknown) => e);
    await c.close();
    const err = await waiting;
    assert.ok(err instanceof ClientError && err.code === 'connection_stopped');
    assert.equal(c.state, 'closed');
    assert.deepEqual(
      events.map((e) => e.name),
      ['closed'],
    );
    assert.equal((events[0]!.event as StateEvents['closed']).code, 1000);
    const after = await c.invoke('zato.ping').catch((e: unknown) => e);
    assert.ok(after instanceof ClientError && after.code === 'connection_stopped');
  });
});

describe('keep-alive', () => {
  test('a connection that stops answering (a black hole) is given up and made anew; calls waiting go out on it', async () => {
    const port = Number(new URL(url).port);
    const proxy = await TcpProxy.start(port);
    try {
      const c = await client(
        { keepAlive: { interval: 100, missed: 2 }, clientId: 'keep-alive' },
        `ws://127.0.0.1:${proxy.port}/ws`,
      );
      const reasons: string[] = [];
      c.on('reconnecting', (e) => reasons.push(`${e.code} ${e.reason}`));
      assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
      proxy.stall();
      const waiting = c.invoke('test.add', { a: 1, b: 2 }, { timeout: 10_000 });
      assert.deepEqual(await waiting, { sum: 3 });
      assert.deepEqual(reasons, ['1006 No answer to keep-alive calls']);
      assert.equal(c.state, 'open');
    } finally {
      await proxy.close();
    }
  });
});

describe('server requests', () => {
  test("onRequest's return value answers the server's zwsx.rqc (through the admin API and from a service)", async () => {
    const c = await client({ clientId: 'answers', clientName: 'Printer #1' });
    c.onRequest(async (data) => ({ echoed: data, at: 'client' }));
    const id = await pubClientId('gw', 'answers');
    const res = await server.api('POST', `/api/channels/wsx/gw/clients/${id}/invoke`, { request: { q: 1 }, timeout: 2 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { response: { echoed: { q: 1 }, at: 'client' } });
    const asked = await c.invoke<{ answer: unknown }>('test.ask-client');
    assert.deepEqual(asked.answer, { echoed: { question: 'ready?' }, at: 'client' });
  });

  test('a handler that throws answers null and reports the error; no handler answers null', async () => {
    const c = await client({ clientId: 'throws' });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    const off = c.onRequest(() => {
      throw new Error('handler failed');
    });
    const id = await pubClientId('gw', 'throws');
    const res = await server.api('POST', `/api/channels/wsx/gw/clients/${id}/invoke`, { request: {}, timeout: 2 });
    assert.deepEqual(res.body, { response: null });
    assert.equal(errors[0]?.message, 'handler failed');
    off();
    const none = await server.api('POST', `/api/channels/wsx/gw/clients/${id}/invoke`, { request: {}, timeout: 2 });
    assert.deepEqual(none.body, { response: null });
  });
});

describe('pub/sub', () => {
  test('subscribe receives every message in order, once, acknowledged; unsubscribe ends it', async () => {
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/client/order' })).status, 201);
    const sub = await client({ clientId: 'sub-order' });
    const got: PubSubMessage<{ i: number }>[] = [];
    const subscription = await sub.subscribe<{ i: number }>('/client/order', (m) => void got.push(m));
    assert.match(subscription.subKey, /^zpsk\.wsx\./);
    assert.equal(subscription.ackMode, 'client');
    const pub = await client();
    const msgIds: string[] = [];
    for (let i = 0; i < 100; i++) msgIds.push(await pub.publish('/client/order', { i }, { hasGd: i % 2 === 0 }));
    await waitFor(() => got.length >= 100, 10_000, '100 messages');
    assert.deepEqual(
      got.map((m) => m.data.i),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.deepEqual(
      got.map((m) => m.msgId),
      msgIds,
    );
    assert.ok(got.every((m) => m.deliveryCount === 1 && m.topic === '/client/order' && m.subKey === subscription.subKey));
    // Every message acknowledged: nothing left queued for the subscription.
    await waitFor(
      async () => (await server.api('GET', `/api/pubsub/subscriptions/${subscription.subKey}`)).body.queueDepth === 0,
    );
    await subscription.unsubscribe();
    assert.equal((await server.api('GET', `/api/pubsub/subscriptions/${subscription.subKey}`)).status, 404);
  });

  test('a handler that throws gets the message again (delivery_count raised), then the rest in order', async () => {
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/client/retry' })).status, 201);
    const sub = await client({ clientId: 'sub-retry', reconnect: { initial: 0.05, max: 0.2 } });
    const errors: Error[] = [];
    sub.on('error', (e) => errors.push(e));
    const got: Array<{ i: number; count: number }> = [];
    let failed = false;
    await sub.subscribe<{ i: number }>('/client/retry', (m) => {
      if (m.data.i === 3 && !failed) {
        failed = true;
        throw new Error('not now');
      }
      got.push({ i: m.data.i, count: m.deliveryCount });
    });
    const pub = await client();
    for (let i = 0; i < 8; i++) await pub.publish('/client/retry', { i });
    await waitFor(() => got.length >= 8, 10_000, '8 messages');
    assert.deepEqual(
      got.map((m) => m.i),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(got[3]!.count >= 2, `message 3 came again with delivery_count ${got[3]!.count}`);
    assert.equal(errors[0]?.message, 'not now');
  });

  test('a subscription the server lost is made anew after the reconnect; one whose topic is gone ends', async () => {
    for (const name of ['/client/lost', '/client/gone'])
      assert.equal((await server.api('POST', '/api/pubsub/topics', { name })).status, 201);
    const c = await client({ clientId: 'sub-lost' });
    const errors: Error[] = [];
    c.on('error', (e) => errors.push(e));
    const got: string[] = [];
    const lost = await c.subscribe<string>('/client/lost', (m) => void got.push(m.data));
    const gone = await c.subscribe<string>('/client/gone', (m) => void got.push(m.data));
    const firstKey = lost.subKey;
    assert.equal((await server.api('DELETE', `/api/pubsub/subscriptions/${firstKey}`)).status, 200);
    assert.equal((await server.api('DELETE', `/api/pubsub/topics/${encodeURIComponent('/client/gone')}`)).status, 200);
    const reopened = new Promise<void>((resolve) => c.on('open', () => resolve()));
    await server.api('DELETE', `/api/channels/wsx/gw/clients/${await pubClientId('gw', 'sub-lost')}`);
    await reopened;
    assert.notEqual(lost.subKey, firstKey);
    assert.ok(
      errors.some((e) => e instanceof ServerError && e.code === 'subscription_not_found'),
      errors.join(),
    );
    assert.ok(
      errors.some((e) => e instanceof ServerError && e.code === 'topic_not_found'),
      errors.join(),
    );
    await c.publish('/client/lost', 'after');
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ['after']);
    assert.equal(c.state, 'open');
    assert.ok(gone.subKey);
  });

  test('keepOnClose: a later client with the same clientId resumes by subKey and gets what was published meanwhile', async () => {
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/client/kept' })).status, 201);
    const first = await client({ clientId: 'kept' });
    const subscription = await first.subscribe('/client/kept', () => undefined, { keepOnClose: true });
    await first.close();
    const pub = await client();
    await pub.publish('/client/kept', 'while away');
    const second = await client({ clientId: 'kept' });
    const got: unknown[] = [];
    const resumed = await second.subscribe('/client/kept', (m) => void got.push(m.data), { subKey: subscription.subKey });
    assert.equal(resumed.subKey, subscription.subKey);
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ['while away']);
    await second.close();
    assert.equal((await server.api('GET', `/api/pubsub/subscriptions/${subscription.subKey}`)).status, 404, 'close() removed it');
  });

  test('publish errors carry the server code', async () => {
    const c = await client();
    const missing = await c.publish('/client/no-such-topic', 1).catch((e: unknown) => e);
    assert.ok(missing instanceof ServerError && missing.code === 'topic_not_found' && missing.status === 404);
    const noTopic = await c.subscribe('/client/no-such-topic', () => undefined).catch((e: unknown) => e);
    assert.ok(noTopic instanceof ServerError && noTopic.code === 'topic_not_found');
  });
});

describe('credentials', () => {
  test('the right credentials connect; wrong ones reject with an AuthError and no reconnect', async () => {
    const good = await client({ username: 'alice', secret: 'pw-1' }, securedUrl);
    assert.deepEqual(await good.invoke('zato.ping'), { pong: 'zato' });
    let attempts = 0;
    const err = await connect(securedUrl, {
      username: 'alice',
      secret: 'wrong',
      retryFirstConnect: true,
      reconnect: { initial: 0.01, max: 0.01 },
      on: { connecting: () => attempts++ },
    }).catch((e: unknown) => e);
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.code, 'invalid_credentials');
    assert.equal(err.status, 403);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(attempts, 1, 'one attempt, no reconnect loop');
  });

  test('credentials that stop working end a connected client with closed (and the error), no reconnect loop', async () => {
    const sec = await server.api('POST', '/api/security', {
      name: 'rotated',
      type: 'basic_auth',
      username: 'bob',
      password: 'old',
    });
    assert.equal(sec.status, 201);
    const rotatedUrl = await createChannel(
      server,
      { name: 'gw-rotated', service: 'helpers.web-sockets-gateway', security: 'rotated' },
      '/rotated',
    );
    const c = await client({ username: 'bob', secret: 'old', clientId: 'rotated' }, rotatedUrl);
    const events = recorder(c);
    const put = await server.api('PUT', '/api/security/rotated', {
      name: 'rotated',
      type: 'basic_auth',
      username: 'bob',
      password: 'new',
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // A new password keeps the connections open: the operator closes this one, and the reconnect is refused.
    const id = await pubClientId('gw-rotated', 'rotated');
    assert.equal((await server.api('DELETE', `/api/channels/wsx/gw-rotated/clients/${id}`)).status, 200);
    await waitFor(() => c.state === 'closed', 5000, 'the client to close');
    const closed = events.find((e) => e.name === 'closed')!.event as StateEvents['closed'];
    assert.ok(closed.error instanceof AuthError && closed.error.code === 'invalid_credentials');
    assert.deepEqual(
      events.map((e) => e.name),
      ['reconnecting', 'connecting', 'closed'],
    );
  });

  test('a server that is not there: connect rejects with not_connected', async () => {
    const err = await connect('ws://127.0.0.1:1/nothing').catch((e: unknown) => e);
    assert.ok(err instanceof ClientError && err.code === 'not_connected', String(err));
  });
});
