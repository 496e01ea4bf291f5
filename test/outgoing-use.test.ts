import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChannel, freePort, waitFor, type TestServer } from './helpers/server.js';
import { PlainRemote } from './helpers/plain-remote.js';
import { BadHook, Reflect, startOutgoingTestBed, type OutgoingTestBed } from './helpers/outgoing.js';

// The happy paths of outgoing connections (moved out of outgoing-faults.test.ts, assertions unchanged).

let server: TestServer;
let zatoUrl: string;
let outgoing: OutgoingTestBed['outgoing'];
let state: OutgoingTestBed['state'];
let connected: OutgoingTestBed['connected'];
let call: OutgoingTestBed['call'];

before(async () => {
  ({ server, zatoUrl, outgoing, state, connected, call } = await startOutgoingTestBed());
});
after(() => server.stop());

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
    const securedUrl = await createChannel(server, {
      name: 'secured',
      service: 'helpers.web-sockets-gateway',
      security: 'remote-user',
    });
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
    const clients = server.channelManager
      .channel('remote')
      .clients()
      .filter((c) => c.extClientName === 'switchboard:pool4');
    assert.equal(clients.length, 4);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('pool4', { service: 'zato.helpers.echo', request: i })),
    );
    assert.deepEqual(
      replies.map((r) => r.body.response.data),
      Array.from({ length: 20 }, (_, i) => i),
    );
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
      await outgoing({
        name: 'bad-hook',
        address: remote.url,
        onConnectService: 'test.bad-hook',
        onMessageService: 'test.bad-hook',
      });
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
