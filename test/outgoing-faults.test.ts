import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Service, opaque, type WsxHookCtx } from '../src/index.js';
import { backoffCeiling, backoffDelay } from '../src/outgoing/wsx/index.js';
import { createChannel, freePort, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { PlainRemote } from './helpers/plain-remote.js';
import { deployTestServices } from './helpers/services.js';

/** Invokes `request.service` on the outgoing connection `request.conn`; returns the response or the error. */
class CallRemote extends Service {
  static override serviceName = 'test.call-remote';
  async handle(): Promise<void> {
    const { conn, msg } = this.request.payload as { conn: string; msg: unknown };
    await using client = await this.out.wsx.get(conn).conn.client();
    const response = await client.invoke(msg);
    this.response.payload = response ?? null;
  }
}

/** A MESSAGE hook that answers server requests with `{ answered: data }`. */
class Answer extends Service {
  static override serviceName = 'test.answer';
  static override io = { inputOptional: [opaque('ctx')] };
  handle(): void {
    const ctx = this.request.input.ctx as WsxHookCtx;
    this.response.payload = { answered: ctx.data };
  }
}

/** A MESSAGE hook that records ctx and answers through ctx.conn. */
class Reflect extends Service {
  static override serviceName = 'test.reflect';
  static override io = { inputOptional: [opaque('ctx')] };
  static seen: WsxHookCtx[] = [];
  async handle(): Promise<void> {
    const ctx = this.request.input.ctx as WsxHookCtx;
    Reflect.seen.push(ctx);
    const conn = ctx.conn as { send(msg: unknown): Promise<unknown> };
    await conn.send({ reflected: ctx.data });
  }
}

/** A hook that always throws. */
class BadHook extends Service {
  static override serviceName = 'test.bad-hook';
  static calls = 0;
  handle(): void {
    BadHook.calls += 1;
    throw new Error('hook bug');
  }
}

let server: TestServer;
let zatoUrl: string;

before(async () => {
  server = await startTestServer();
  deployTestServices(server);
  server.registry.replaceSource('faults', [CallRemote, Answer, BadHook, Reflect].map((cls) => ({ name: cls.serviceName, cls })));
  zatoUrl = await createChannel(server, { name: 'remote', service: 'helpers.web-sockets-gateway', gatewayServices: ['test.*'] });
});
after(() => server.stop());

async function outgoing(body: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await server.api('POST', '/api/outgoing/wsx', { reconnect: { initial: 0.02, max: 0.1 }, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const state = (name: string) => server.outgoingManager.state(name) as Record<string, any>;
const connected = (name: string) => waitFor(() => state(name).state === 'connected', 5000, `${name} to connect`);

async function call(conn: string, msg: unknown): Promise<{ status: number; body: any }> {
  return server.api('POST', '/api/services/test.call-remote/invoke', { request: { conn, msg } });
}

describe('outgoing connections: using them', () => {
  test('an unknown connection name is a 404 that lists what exists', async () => {
    await outgoing({ name: 'known-one', address: zatoUrl, isZato: true });
    const res = await call('nope', {});
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'outgoing_not_found');
    assert.match(res.body.error.message, /known-one/);
  });

  test('a non-200 reply resolves with isOk false, the status and the error message', async () => {
    await outgoing({ name: 'errs', address: zatoUrl, isZato: true });
    await connected('errs');
    const res = await call('errs', { service: 'test.boom' });
    assert.equal(res.status, 200);
    assert.equal(res.body.response.isOk, false);
    assert.equal(res.body.response.status, 500);
    assert.equal(res.body.response.errorMessage, 'Internal server error');
  });

  test('basic auth: right credentials connect; wrong ones leave it reconnecting and client() times out with its state', async () => {
    await server.api('POST', '/api/security', { name: 'remote-user', type: 'basic_auth', username: 'u1', password: 'right' });
    await server.api('POST', '/api/security', { name: 'wrong-user', type: 'basic_auth', username: 'u1', password: 'wrong' });
    const securedUrl = await createChannel(server, { name: 'secured', service: 'helpers.web-sockets-gateway', security: 'remote-user' });
    await outgoing({ name: 'good-creds', address: securedUrl, isZato: true, security: 'remote-user' });
    await connected('good-creds');
    assert.deepEqual((await call('good-creds', { service: 'zato.ping' })).body.response.data, { pong: 'zato' });
    await outgoing({ name: 'bad-creds', address: securedUrl, isZato: true, security: 'wrong-user', acquireTimeout: 0.3 });
    await waitFor(() => /Invalid credentials|refused/.test(state('bad-creds').lastError ?? ''), 3000, 'a credentials error');
    const res = await call('bad-creds', { service: 'zato.ping' });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'acquire_timeout');
    assert.match(res.body.error.message, /bad-creds is (reconnecting|connecting)/);
    assert.match(res.body.error.message, /last error/);
  });

  test('a server request (zwsx.rqc) goes to the MESSAGE hook and its return value is the client-response', async () => {
    await outgoing({ name: 'answers', address: zatoUrl, isZato: true, onMessageService: 'test.answer' });
    await connected('answers');
    const handle = server.channelManager.channel('remote');
    const client = handle.clients().find((c) => c.extClientName === 'switchboard:answers');
    assert.ok(client);
    assert.deepEqual(await handle.invoke(client.pubClientId, { q: 42 }, { timeout: 2000 }), { answered: { q: 42 } });
  });

  test('poolSize 4 opens four sockets', async () => {
    await outgoing({ name: 'pool4', address: zatoUrl, isZato: true, poolSize: 4 });
    await waitFor(() => state('pool4').connected === 4, 5000, 'four sockets');
    const clients = server.channelManager.channel('remote').clients().filter((c) => c.extClientName === 'switchboard:pool4');
    assert.equal(clients.length, 4);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call('pool4', { service: 'zato.helpers.echo', request: i })));
    assert.deepEqual(replies.map((r) => r.body.response.data), Array.from({ length: 20 }, (_, i) => i));
  });

  test('an expired session is re-created transparently', async () => {
    const shortUrl = await createChannel(server, { name: 'short-session', service: 'zato.ping', tokenTtl: 0.2, pingInterval: 0 });
    await outgoing({ name: 'renews', address: shortUrl, isZato: true, pingInterval: 0 });
    await connected('renews');
    await new Promise((r) => setTimeout(r, 300));
    const res = await call('renews', {});
    assert.equal(res.body.response.status, 200);
    assert.deepEqual(res.body.response.data, { pong: 'zato' });
  });

  test('the pending map is bounded: requests over maxPendingRequests are refused at once', async () => {
    await outgoing({ name: 'bounded', address: zatoUrl, isZato: true, maxPendingRequests: 2, responseTimeout: 5 });
    await connected('bounded');
    const slow = { service: 'test.slow', request: { ms: 300, value: 1 } };
    const results = await Promise.all([call('bounded', slow), call('bounded', slow), call('bounded', slow)]);
    const codes = results.map((r) => r.body.error?.code ?? r.status);
    assert.deepEqual(codes.sort(), [200, 200, 'too_many_pending'].sort());
  });

  test('plain remote with dataFormat json: the MESSAGE hook gets parsed JSON, ctx.config, and ctx.conn to answer with', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      await outgoing({ name: 'json-remote', address: remote.url, dataFormat: 'json', onMessageService: 'test.reflect' });
      await connected('json-remote');
      remote.broadcast(JSON.stringify({ price: 7 }));
      await waitFor(() => remote.received.includes(JSON.stringify({ reflected: { price: 7 } })), 2000, 'the answer');
      const ctx = Reflect.seen.at(-1)!;
      assert.equal(ctx.type, 'message');
      assert.deepEqual(ctx.data, { price: 7 });
      assert.equal((ctx.config as { name: string }).name, 'json-remote');
    } finally {
      await remote.kill();
    }
  });

  test('a hook that throws is logged and does not break the connection', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      await outgoing({ name: 'bad-hook', address: remote.url, onConnectService: 'test.bad-hook', onMessageService: 'test.bad-hook' });
      await connected('bad-hook');
      remote.broadcast('x');
      await waitFor(() => BadHook.calls >= 2, 2000, 'hook calls');
      assert.equal(state('bad-hook').state, 'connected');
      await call('bad-hook', 'still works');
      await waitFor(() => remote.received.includes('still works'), 2000, 'the write');
    } finally {
      await remote.kill();
    }
  });
});

describe('outgoing connections: faults', () => {
  test('remote not listening at start: reconnecting with the error, then connects once it is up', async () => {
    const port = await freePort();
    await outgoing({ name: 'late-remote', address: `ws://127.0.0.1:${port}/remote` });
    await waitFor(() => /ECONNREFUSED/.test(state('late-remote').lastError ?? ''), 3000, 'ECONNREFUSED');
    assert.equal(state('late-remote').state, 'reconnecting');
    const api = (await server.api('GET', '/api/outgoing/wsx/late-remote')).body;
    assert.equal(api.runtime.state, 'reconnecting');
    const remote = await PlainRemote.start(port);
    try {
      await connected('late-remote');
    } finally {
      await remote.kill();
    }
  });

  test('remote refuses the upgrade (404, 401): the status is the last error', async () => {
    const port = new URL(zatoUrl).port;
    await outgoing({ name: 'wrong-path', address: `ws://127.0.0.1:${port}/no-such-path` });
    await waitFor(() => /404/.test(state('wrong-path').lastError ?? ''), 3000, '404');
    await server.api('POST', '/api/security', { name: 'plain-sec', type: 'basic_auth', username: 'a', password: 'b' });
    const securedPlain = await createChannel(server, { name: 'secured-plain', service: 'zato.helpers.echo', protocol: 'plain', security: 'plain-sec' });
    await outgoing({ name: 'no-basic', address: securedPlain });
    await waitFor(() => /401/.test(state('no-basic').lastError ?? ''), 3000, '401');
  });

  test('remote never answers the upgrade: handshake timeout, then retries', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    try {
      await outgoing({ name: 'silent-upgrade', address: `ws://127.0.0.1:${port}/x`, connectTimeout: 0.2 });
      await waitFor(() => /timed out/i.test(state('silent-upgrade').lastError ?? ''), 3000, 'handshake timeout');
      await waitFor(() => sockets.length >= 2, 3000, 'a retry');
    } finally {
      await server.api('DELETE', '/api/outgoing/wsx/silent-upgrade');
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('remote never answers a request: a typed response_timeout', async () => {
    // A fake Zato remote: grants a session, then ignores every request.
    const remote = await PlainRemote.start(await freePort(), (ws, text) => {
      const frame = JSON.parse(text);
      if (frame.meta.action === 'create-session') {
        ws.send(JSON.stringify({ meta: { id: 'a', timestamp: '', msg_type: 'zwsx.rspa', status: 200, in_reply_to: frame.meta.id }, data: { token: 'zwsxt.1' } }));
      }
    });
    try {
      await outgoing({ name: 'mute', address: remote.url, isZato: true, responseTimeout: 0.2 });
      await connected('mute');
      const res = await call('mute', { service: 'x' });
      assert.equal(res.status, 504);
      assert.equal(res.body.error.code, 'response_timeout');
    } finally {
      await remote.kill();
    }
  });

  test('remote closes mid-invoke: the pending call fails at once, then it reconnects', async () => {
    await outgoing({ name: 'cut', address: zatoUrl, isZato: true, responseTimeout: 10 });
    await connected('cut');
    const started = Date.now();
    const pending = call('cut', { service: 'test.slow', request: { ms: 3000 } });
    const handle = server.channelManager.channel('remote');
    const client = await waitFor(() => handle.clients().find((c) => c.extClientName === 'switchboard:cut'), 2000, 'client');
    await new Promise((r) => setTimeout(r, 50));
    await handle.disconnect(client.pubClientId);
    const res = await pending;
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'connection_closed');
    assert.ok(Date.now() - started < 2000, 'failed at once, not after the timeout');
    await connected('cut');
  });

  test('an oversized reply closes the socket (1009), fails the call, and the connection comes back', async () => {
    await outgoing({ name: 'small-replies', address: zatoUrl, isZato: true, maxMessageSize: 1024 });
    await connected('small-replies');
    const res = await call('small-replies', { service: 'zato.helpers.echo', request: 'z'.repeat(5000) });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'connection_closed');
    assert.match(res.body.error.message, /Max payload size exceeded/);
    await connected('small-replies');
  });

  test('invoking while reconnecting waits up to acquireTimeout, then a typed error', async () => {
    const port = await freePort();
    await outgoing({ name: 'down', address: `ws://127.0.0.1:${port}/x`, acquireTimeout: 0.25 });
    const started = Date.now();
    const res = await call('down', 'x');
    assert.equal(res.body.error.code, 'acquire_timeout');
    assert.ok(Date.now() - started >= 200);
  });

  test('a call that starts while reconnecting succeeds once the remote is back within acquireTimeout', async () => {
    const port = await freePort();
    await outgoing({ name: 'comes-back', address: `ws://127.0.0.1:${port}/remote`, acquireTimeout: 3 });
    const pending = call('comes-back', 'hello');
    await new Promise((r) => setTimeout(r, 100));
    const remote = await PlainRemote.start(port);
    try {
      assert.equal((await pending).status, 200);
      await waitFor(() => remote.received.includes('hello'), 2000, 'delivery');
    } finally {
      await remote.kill();
    }
  });

  test('editing the address while calls are in flight: they fail as stopped; new calls use the new address', async () => {
    const secondUrl = await createChannel(server, { name: 'remote-2', service: 'helpers.web-sockets-gateway', gatewayServices: ['test.*'] });
    const created = await outgoing({ name: 'moving', address: zatoUrl, isZato: true });
    await connected('moving');
    const inFlight = call('moving', { service: 'test.slow', request: { ms: 2000 } });
    await new Promise((r) => setTimeout(r, 50));
    const { runtime: _r, ...config } = created;
    assert.equal((await server.api('PUT', '/api/outgoing/wsx/moving', { ...config, address: secondUrl })).status, 200);
    const res = await inFlight;
    assert.equal(res.body.error.code, 'connection_stopped');
    await connected('moving');
    assert.equal((await call('moving', { service: 'zato.ping' })).status, 200);
    assert.ok(server.channelManager.channel('remote-2').clients().some((c) => c.extClientName === 'switchboard:moving'));
  });

  test('deactivating closes the connection live and reactivating reconnects', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      const created = await outgoing({ name: 'toggled', address: remote.url });
      await connected('toggled');
      const { runtime: _r, ...config } = created;
      assert.equal((await server.api('PUT', '/api/outgoing/wsx/toggled', { ...config, isActive: false })).body.runtime.state, 'stopped');
      await waitFor(() => remote.sockets.size === 0, 2000, 'the socket to close');
      assert.equal((await call('toggled', 'x')).body.error.code, 'outgoing_not_found');
      await server.api('PUT', '/api/outgoing/wsx/toggled', { ...config, isActive: true });
      await connected('toggled');
      assert.equal(remote.connections, 2);
    } finally {
      await remote.kill();
    }
  });

  test('delete closes deliberately: no CLOSE hook, no reconnect', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      BadHook.calls = 0;
      await outgoing({ name: 'deleted', address: remote.url, onCloseService: 'test.bad-hook' });
      await connected('deleted');
      assert.equal((await server.api('DELETE', '/api/outgoing/wsx/deleted')).status, 200);
      await waitFor(() => remote.sockets.size === 0, 2000, 'the socket to close');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(remote.connections, 1);
      assert.equal(BadHook.calls, 0);
      assert.equal((await call('deleted', 'x')).body.error.code, 'outgoing_not_found');
    } finally {
      await remote.kill();
    }
  });
});

describe('backoff resets after a stable connection', () => {
  test('a connection that stayed up resetAfter starts again from the initial delay', async () => {
    const port = await freePort();
    const reconnect = { initial: 0.05, factor: 10, max: 5, resetAfter: 0.2 };
    await server.api('POST', '/api/outgoing/wsx', { name: 'resets', address: `ws://127.0.0.1:${port}/remote`, reconnect, pingInterval: 0 });
    // Three failed attempts push the ceiling to 5 s...
    await waitFor(() => (server.outgoingManager.get('resets').conn.sockets[0]!.reconnects ?? 0) >= 3, 5000, 'failed attempts');
    const remote = await PlainRemote.start(port);
    try {
      await waitFor(() => state('resets').state === 'connected', 10_000, 'connected');
      await new Promise((r) => setTimeout(r, 300));
      // Read the delay the moment the first reconnect is scheduled (a slow machine may see later attempts).
      const socket = server.outgoingManager.get('resets').conn.sockets[0]!;
      const firstDelay = new Promise<number>((resolve) =>
        socket.on('state', function onState(st: string) {
          if (st !== 'reconnecting') return;
          socket.off('state', onState);
          resolve(socket.nextAttemptAt!.getTime() - Date.now());
        }),
      );
      await remote.kill();
      // ...but after a stable connection the next delay is at most the initial 50 ms again.
      assert.ok((await firstDelay) <= 50);
    } finally {
      await remote.kill();
      await server.api('DELETE', '/api/outgoing/wsx/resets');
    }
  });
});

describe('backoff', () => {
  const config = { initial: 0.5, factor: 2, max: 30, resetAfter: 5 };

  test('ceilings double from 0.5 s up to 30 s', () => {
    assert.deepEqual(
      Array.from({ length: 9 }, (_, i) => backoffCeiling(i, config)),
      [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
  });

  test('full jitter: every delay is between 0 and its ceiling', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      assert.equal(backoffDelay(attempt, config, () => 0), 0);
      assert.equal(backoffDelay(attempt, config, () => 0.999999), Math.round(0.999999 * backoffCeiling(attempt, config)));
      const d = backoffDelay(attempt, config);
      assert.ok(d >= 0 && d <= backoffCeiling(attempt, config));
    }
  });
});
