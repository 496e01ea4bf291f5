import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, freePort, startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

const RESOURCES = [
  '/api/channels/wsx',
  '/api/outgoing/wsx',
  '/api/security',
  '/api/services',
  '/api/pubsub/topics',
  '/api/pubsub/subscriptions',
];

describe('admin API: authentication', () => {
  test('health needs no token', async () => {
    const res = await fetch(`${server.adminUrl}/api/health`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  });

  test('every resource answers 401 without a token and with a wrong one', async () => {
    for (const path of RESOURCES) {
      const none = await fetch(server.adminUrl + path);
      assert.equal(none.status, 401, path);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
      assert.equal((await server.api('GET', path, undefined, { authorization: 'Bearer nope' })).status, 401, path);
    }
    const write = await fetch(`${server.adminUrl}/api/channels/wsx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(write.status, 401);
  });
});

describe('admin API: validation (400 with the field)', () => {
  const valid = async () => ({ name: 'v', address: `ws://127.0.0.1:${await freePort()}/v`, service: 'zato.ping' });

  test('missing, unknown, mistyped fields and semantic errors name the field', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ address: 'ws://127.0.0.1:1/x', service: 's' }, 'name', 'invalid_body'],
      [{ ...(await valid()), adress: 'typo' }, 'adress', 'invalid_body'],
      [{ ...(await valid()), pingInterval: 'often' }, 'pingInterval', 'invalid_body'],
      [{ ...(await valid()), protocol: 'smoke-signals' }, 'protocol', 'invalid_body'],
      [{ ...(await valid()), address: 'ws://127.0.0.1/no-port' }, 'address', 'invalid_input'],
      [{ ...(await valid()), security: 'no-such-definition' }, 'security', 'invalid_input'],
    ];
    for (const [body, field, code] of cases) {
      const res = await server.api('POST', '/api/channels/wsx', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
      assert.equal(res.body.error.code, code);
    }
  });

  test('invalid JSON and an empty body are 400 invalid_json', async () => {
    const bad = await server.api('POST', '/api/channels/wsx', '{"name": ', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
  });

  test('outgoing, security and topic bodies are validated too', async () => {
    assert.equal((await server.api('POST', '/api/outgoing/wsx', { name: 'o', address: 'http://x' })).body.error.field, 'address');
    assert.equal(
      (await server.api('POST', '/api/outgoing/wsx', { name: 'o', address: 'ws://x:1', poolSize: 0 })).body.error.field,
      'poolSize',
    );
    assert.equal(
      (await server.api('POST', '/api/security', { name: 's', type: 'kerberos', password: 'p' })).body.error.field,
      'type',
    );
    assert.equal(
      (await server.api('POST', '/api/security', { name: 's', type: 'basic_auth', password: 'p' })).body.error.field,
      'username',
    );
    assert.equal(
      (await server.api('POST', '/api/security', { name: 's', type: 'basic_auth', username: 'u' })).body.error.field,
      'password',
    );
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: 'no-slash' })).body.error.field, 'name');
  });
});

describe('admin API: 404 and 409', () => {
  test('unknown objects and routes are 404 with a code', async () => {
    const cases: Array<[string, string]> = [
      ['/api/channels/wsx/nope', 'channel_not_found'],
      ['/api/outgoing/wsx/nope', 'outgoing_not_found'],
      ['/api/security/nope', 'security_not_found'],
      [`/api/pubsub/topics/${encodeURIComponent('/nope')}`, 'topic_not_found'],
      ['/api/pubsub/subscriptions/nope', 'subscription_not_found'],
      ['/api/no/such/route', 'not_found'],
    ];
    for (const [path, code] of cases) {
      const res = await server.api('GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, code, path);
    }
    const svc = await server.api('POST', '/api/services/no.such/invoke', {});
    assert.equal(svc.status, 404);
    assert.equal(svc.body.error.code, 'service_not_found');
  });

  test('duplicate names and a security definition in use are 409', async () => {
    await createChannel(server, { name: 'dup', service: 'zato.ping' });
    const again = await server.api('POST', '/api/channels/wsx', {
      name: 'dup',
      address: `ws://127.0.0.1:${await freePort()}/d`,
      service: 'zato.ping',
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'channel_exists');
    assert.equal((await server.api('POST', '/api/security', { name: 'used', type: 'apikey', secret: 'k' })).status, 201);
    assert.equal((await server.api('POST', '/api/security', { name: 'used', type: 'apikey', secret: 'k' })).status, 409);
    await createChannel(server, { name: 'secured', service: 'zato.ping', security: 'used' });
    const inUse = await server.api('DELETE', '/api/security/used');
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.code, 'security_in_use');
    assert.match(inUse.body.error.message, /channel secured/);
  });
});

describe('admin API: connected clients', () => {
  test('list, invoke (with the client answering) and disconnect; a silent client times out with 504', async () => {
    const url = await createChannel(server, { name: 'clients', service: 'zato.ping' });
    const client = await TestClient.connect(url);
    await client.createSession({ client_id: 'api-client', client_name: 'Printer' });
    const listed = (await server.api('GET', '/api/channels/wsx/clients/clients')).body;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].extClientId, 'api-client');
    assert.equal(listed[0].extClientName, 'Printer');
    const id = listed[0].pubClientId;
    const pending = server.api('POST', `/api/channels/wsx/clients/clients/${id}/invoke`, { request: { q: 1 }, timeout: 2 });
    const rq = await client.next();
    client.send({
      meta: { action: 'client-response', id: 'r', token: client.token, in_reply_to: rq.meta.id },
      data: { response: { a: 1 } },
    });
    assert.deepEqual((await pending).body, { response: { a: 1 } });
    const silent = await server.api('POST', `/api/channels/wsx/clients/clients/${id}/invoke`, { request: {}, timeout: 0.2 });
    assert.equal(silent.status, 504);
    assert.equal(silent.body.error.code, 'client_timeout');
    assert.equal((await server.api('DELETE', `/api/channels/wsx/clients/clients/${id}`)).status, 200);
    assert.equal((await client.closed).code, 4005);
    assert.equal((await server.api('DELETE', `/api/channels/wsx/clients/clients/${id}`)).status, 404);
  });
});
