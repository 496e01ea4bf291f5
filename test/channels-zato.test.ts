import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { deployTestServices, HookRecorder } from './helpers/services.js';

let server: TestServer;
let gatewayUrl: string;
let addUrl: string;

before(async () => {
  server = await startTestServer();
  deployTestServices(server);
  gatewayUrl = await createChannel(server, {
    name: 'gw',
    service: 'helpers.web-sockets-gateway',
    gatewayServices: ['test.*'],
    hookService: 'test.hook',
  });
  addUrl = await createChannel(server, { name: 'add', service: 'test.add' });
});
after(() => server.stop());

async function session(url = gatewayUrl, meta?: Record<string, unknown>): Promise<TestClient> {
  const client = await TestClient.connect(url);
  const frame = await client.createSession(meta);
  assert.equal(frame.meta.msg_type, 'zwsx.rspa');
  return client;
}

describe('WSX (zato) channel: happy paths', () => {
  test('create-session returns a CSPRNG token and invoke-service returns the echo', async () => {
    const client = await TestClient.connect(gatewayUrl);
    const auth = await client.createSession({ client_id: 'p.1', client_name: { floor: 5, room: 'A' } });
    assert.equal(auth.meta.status, 200);
    assert.match(auth.data.token, /^zwsxt\.[0-9a-f]{32}$/);
    assert.match(auth.meta.timestamp, /Z$/);
    const reply = await client.gateway('zato.helpers.echo', { elem1: 'value1', elem2: 'value2' });
    assert.equal(reply.meta.msg_type, 'zwsx.rspok');
    assert.equal(reply.meta.status, 200);
    assert.deepEqual(reply.data, { elem1: 'value1', elem2: 'value2' });
    const listed = server.channelManager
      .channel('gw')
      .clients()
      .find((c) => c.extClientId === 'p.1');
    assert.ok(listed, 'client is listed');
    assert.equal(listed.extClientName, 'floor: 5; room: A');
    assert.equal(listed.hasSession, true);
    client.close();
  });

  test('a channel mounting a service directly passes data as the request', async () => {
    const client = await session(addUrl);
    const reply = await client.invoke({ a: 2, b: '40' });
    assert.deepEqual(reply.data, { sum: 42 });
    client.close();
  });

  test('zato.ping answers pong; a service returning nothing gives rspok without data', async () => {
    const client = await session();
    assert.deepEqual((await client.gateway('zato.ping')).data, { pong: 'zato' });
    const silent = await client.gateway('test.silent');
    assert.equal(silent.meta.msg_type, 'zwsx.rspok');
    assert.equal('data' in silent, false);
    client.close();
  });

  test('a repeated create-session renews the token and does not register the client twice', async () => {
    HookRecorder.calls = [];
    const client = await session(gatewayUrl, { client_id: 'renew-me' });
    const first = client.token;
    await client.createSession();
    assert.notEqual(client.token, first);
    assert.equal((await client.gateway('zato.ping')).meta.status, 200);
    assert.equal(
      server.channelManager
        .channel('gw')
        .clients()
        .filter((c) => c.extClientId === 'renew-me').length,
      1,
    );
    assert.equal(HookRecorder.calls.filter((c) => c.extClientId === 'renew-me' && c.hookType === 'wsx_on_connected').length, 1);
    // The renewed-away token is refused; as in Zato (issue 10 item 8) that also ends the connection.
    const old = await client.invoke({ service: 'zato.ping' }, { token: first });
    assert.equal(old.meta.code, 'invalid_token');
    assert.equal((await client.closed).code, 1008);
    await waitFor(
      () => HookRecorder.calls.find((c) => c.extClientId === 'renew-me' && c.hookType === 'wsx_on_disconnected'),
      2000,
      'disconnected hook',
    );
  });

  test('requests on one connection run concurrently, each reply correlated by in_reply_to', async () => {
    const client = await session();
    const slow = client.gateway('test.slow', { ms: 200, value: 'slow' });
    const fast = client.gateway('test.slow', { ms: 0, value: 'fast' });
    const [s, f] = await Promise.all([slow, fast]);
    assert.equal(s.data, 'slow');
    assert.equal(f.data, 'fast');
    client.close();
  });
});

describe('WSX (zato) channel: bad input gets an error frame and the connection stays usable', () => {
  test('malformed JSON → zwsx.merr 400 invalid_json', async () => {
    const client = await TestClient.connect(gatewayUrl);
    client.send('{not json');
    const err = await client.next();
    assert.equal(err.meta.msg_type, 'zwsx.merr');
    assert.equal(err.meta.status, 400);
    assert.equal(err.meta.code, 'invalid_json');
    assert.equal((await client.createSession()).meta.msg_type, 'zwsx.rspa');
    client.close();
  });

  test('JSON without meta → missing_meta; meta without id → missing_meta_id', async () => {
    const client = await session();
    client.send({ data: { service: 'zato.ping' } });
    assert.equal((await client.next()).meta.code, 'missing_meta');
    client.send([1, 2, 3]);
    assert.equal((await client.next()).meta.code, 'missing_meta');
    client.send({ meta: { action: 'invoke-service', token: client.token }, data: {} });
    const noId = await client.next();
    assert.equal(noId.meta.code, 'missing_meta_id');
    assert.equal(noId.meta.status, 400);
    assert.equal((await client.gateway('zato.ping')).meta.status, 200);
    client.close();
  });

  test('unknown action → rsperr 400 unknown_action in reply to the id', async () => {
    const client = await session();
    client.send({ meta: { action: 'dance', id: 'x1', token: client.token } });
    const err = await client.reply('x1');
    assert.equal(err.meta.msg_type, 'zwsx.rsperr');
    assert.equal(err.meta.code, 'unknown_action');
    client.close();
  });

  test('invoke before a session → 401 session_required', async () => {
    const client = await TestClient.connect(gatewayUrl);
    const err = await client.invoke({ service: 'zato.ping' });
    assert.equal(err.meta.status, 401);
    assert.equal(err.meta.code, 'session_required');
    client.close();
  });

  // Issue 10 item 8: as in Zato, a bad token ends the connection after the error frame, so that Zato's clients
  // (which create a session only when the socket closes) start over; a new connection works.
  for (const [label, token] of [
    ['wrong', 'zwsxt.0000'],
    ['missing', undefined],
  ] as const) {
    test(`${label} token → 401 invalid_token, then close 1008; a new session works`, async () => {
      const client = await session();
      assert.equal((await client.invoke({ service: 'zato.ping' }, { token })).meta.code, 'invalid_token');
      assert.equal((await client.closed).code, 1008);
      const again = await session();
      assert.equal((await again.gateway('zato.ping')).meta.status, 200);
      again.close();
    });
  }

  test('expired token → 401 token_expired, then close 1008; a new session works', async () => {
    const url = await createChannel(server, { name: 'short-ttl', service: 'zato.ping', tokenTtl: 0.2, pingInterval: 0 });
    const client = await session(url);
    await new Promise((r) => setTimeout(r, 300));
    const err = await client.invoke({});
    assert.equal(err.meta.status, 401);
    assert.equal(err.meta.code, 'token_expired');
    assert.equal((await client.closed).code, 1008);
    const again = await session(url);
    assert.deepEqual((await again.invoke({})).data, { pong: 'zato' });
    again.close();
  });

  test('unknown service → 404 service_not_found; not allowed by the gateway → 403', async () => {
    const client = await session();
    const missing = await client.gateway('test.no-such-service');
    assert.equal(missing.meta.status, 404);
    assert.equal(missing.meta.code, 'service_not_found');
    const forbidden = await client.gateway('zato.some.internal');
    assert.equal(forbidden.meta.status, 403);
    assert.equal(forbidden.meta.code, 'service_not_allowed');
    const url = await createChannel(server, { name: 'no-service', service: 'does.not.exist' });
    const direct = await session(url);
    assert.equal((await direct.invoke({})).meta.code, 'service_not_found');
    client.close();
    direct.close();
  });

  test('SimpleIO violation → 400 naming the field', async () => {
    const client = await session(addUrl);
    const missing = await client.invoke({ a: 1 });
    assert.equal(missing.meta.status, 400);
    assert.equal(missing.meta.code, 'invalid_input');
    assert.match(missing.meta.error_message!, /\bb\b/);
    const wrongType = await client.invoke({ a: 1, b: 'two' });
    assert.equal(wrongType.meta.status, 400);
    assert.match(wrongType.meta.error_message!, /b must be an integer/);
    client.close();
  });

  test('a service that throws → 500 without internals; the connection stays open', async () => {
    const client = await session();
    const err = await client.gateway('test.boom');
    assert.equal(err.meta.status, 500);
    assert.equal(err.meta.code, 'internal_error');
    assert.equal(err.meta.error_message, 'Internal server error');
    assert.match(err.data.cid, /^[0-9a-f]{24}$/);
    const typed = await client.gateway('test.teapot');
    assert.equal(typed.meta.status, 418);
    assert.equal(typed.meta.code, 'teapot');
    assert.equal((await client.gateway('zato.ping')).meta.status, 200);
    client.close();
  });

  test('a frame over maxMessageSize closes with 1009; other clients are unaffected', async () => {
    const url = await createChannel(server, { name: 'small', service: 'zato.helpers.echo', maxMessageSize: 1024 });
    const other = await session(url);
    const big = await session(url);
    big.send({ meta: { action: 'invoke-service', id: 'big', token: big.token }, data: 'x'.repeat(2000) });
    assert.equal((await big.closed).code, 1009);
    assert.deepEqual((await other.invoke({ ok: true })).data, { ok: true });
    other.close();
  });

  test('invalid UTF-8: a binary frame before a session closes 4001, after a session answers 422', async () => {
    const before = await TestClient.connect(gatewayUrl);
    before.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
    assert.equal((await before.closed).code, 4001);
    const afterSession = await session();
    afterSession.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
    const err = await afterSession.next();
    assert.equal(err.meta.status, 422);
    assert.equal(err.meta.code, 'invalid_utf8');
    afterSession.close();
  });

  test('invalid UTF-8 in a text frame is closed by the WebSocket layer with 1007', async () => {
    const client = await session();
    client.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
    assert.equal((await client.closed).code, 1007);
  });

  test('no session within newTokenWaitTime → zwsx.merr 401 session_timeout and close 1008', async () => {
    const url = await createChannel(server, { name: 'quick-session', service: 'zato.ping', newTokenWaitTime: 0.2 });
    const client = await TestClient.connect(url);
    const err = await client.next();
    assert.equal(err.meta.msg_type, 'zwsx.merr');
    assert.equal(err.meta.code, 'session_timeout');
    assert.equal((await client.closed).code, 1008);
  });
});

describe('WSX (zato) channel: pings', () => {
  test('a client that stops answering pings is closed with 4002', async () => {
    const url = await createChannel(server, { name: 'pinged', service: 'zato.ping', pingInterval: 0.1, pingsMissedThreshold: 2 });
    const client = await TestClient.connect(url, { autoPong: false });
    await client.createSession();
    const { code, reason } = await client.closed;
    assert.equal(code, 4002);
    assert.equal(reason, 'Pings missed');
  });

  test('a client that answers pings stays connected; each pong extends its token', async () => {
    const url = await createChannel(server, {
      name: 'pinged-ok',
      service: 'zato.ping',
      pingInterval: 0.1,
      pingsMissedThreshold: 5,
      tokenTtl: 0.25,
    });
    const client = await session(url);
    await waitFor(() => client.pings.length >= 5, 3000, 'five pings');
    const ping = JSON.parse(client.pings[0]!.toString());
    assert.equal(ping.meta.msg_type, 'zwsx.rqc');
    assert.ok(client.pings[0]!.length <= 125);
    // 0.25 s TTL has long passed, but pongs extended it.
    assert.deepEqual((await client.invoke({})).data, { pong: 'zato' });
    client.close();
  });
});

describe('server → client requests', () => {
  test('a service asks the calling client and gets its client-response', async () => {
    const client = await session();
    const id = client.newId('i');
    client.send({ meta: { action: 'invoke-service', id, token: client.token }, data: { service: 'test.ask-client' } });
    const request = await client.next();
    assert.equal(request.meta.msg_type, 'zwsx.rqc');
    assert.deepEqual(request.data, { question: 'ready?' });
    client.send({
      meta: { action: 'client-response', id: 'r1', token: client.token, in_reply_to: request.meta.id },
      data: { response: 'yes' },
    });
    const reply = await client.reply(id);
    assert.equal(reply.data.answer, 'yes');
    assert.match(reply.data.pubClientId, /^ws\./);
    client.close();
  });

  test('a client that does not answer → the service gets a 504 client_timeout', async () => {
    const client = await session();
    const reply = await client.gateway('test.ask-client', { timeout: 150 });
    assert.equal(reply.meta.status, 504);
    assert.equal(reply.meta.code, 'client_timeout');
    client.close();
  });

  test('channel handle: invoke, send, broadcast and disconnect (4005)', async () => {
    const a = await session(gatewayUrl, { client_id: 'a' });
    const b = await session(gatewayUrl, { client_id: 'b' });
    const handle = server.channelManager.channel('gw');
    const idOf = (ext: string) => handle.clients().find((c) => c.extClientId === ext)!.pubClientId;
    const pending = handle.invoke(idOf('a'), { hello: 'a' }, { timeout: 2000 });
    const rq = await a.next();
    a.send({
      meta: { action: 'client-response', id: 'r', token: a.token, in_reply_to: rq.meta.id },
      data: { response: { ok: 1 } },
    });
    assert.deepEqual(await pending, { ok: 1 });
    assert.ok((await handle.broadcast({ news: 1 })) >= 2);
    assert.deepEqual((await a.next()).data, { news: 1 });
    assert.deepEqual((await b.next()).data, { news: 1 });
    await handle.disconnect(idOf('b'));
    assert.equal((await b.closed).code, 4005);
    await assert.rejects(handle.invoke('ws.nope', {}), { code: 'client_not_found' });
    a.close();
  });

  test('pending requests fail at once when the client disconnects', async () => {
    const client = await session(gatewayUrl, { client_id: 'leaver' });
    const handle = server.channelManager.channel('gw');
    const pubClientId = handle.clients().find((c) => c.extClientId === 'leaver')!.pubClientId;
    const pending = handle.invoke(pubClientId, {}, { timeout: 10_000 });
    await client.next();
    client.ws.terminate();
    await assert.rejects(pending, { code: 'connection_closed' });
  });
});
