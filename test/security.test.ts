import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, queryStored, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

let server: TestServer;
let securedUrl: string;

before(async () => {
  server = await startTestServer();
  assert.equal(
    (
      await server.api('POST', '/api/security', {
        name: 'partners',
        type: 'basic_auth',
        username: 'acme',
        password: 'correct horse',
      })
    ).status,
    201,
  );
  securedUrl = await createChannel(server, { name: 'secured', service: 'zato.ping', security: 'partners' });
});
after(() => server.stop());

async function session(
  meta: Record<string, unknown>,
): Promise<{ client: TestClient; reply: Awaited<ReturnType<TestClient['createSession']>> }> {
  const client = await TestClient.connect(securedUrl);
  const reply = await client.createSession(meta);
  return { client, reply };
}

describe('basic_auth on a zato channel', () => {
  test('the right credentials create a session', async () => {
    const { client, reply } = await session({ username: 'acme', secret: 'correct horse' });
    assert.equal(reply.meta.msg_type, 'zwsx.rspa');
    assert.deepEqual((await client.invoke({})).data, { pong: 'zato' });
    client.close();
  });

  for (const [label, meta] of [
    ['a wrong password', { username: 'acme', secret: 'wrong' }],
    ['a wrong username', { username: 'someone', secret: 'correct horse' }],
    ['no secret', { username: 'acme' }],
    ['no credentials', {}],
  ] as const) {
    test(`${label} → zwsx.merr 403 invalid_credentials, then a close frame 1008 (not a dropped socket)`, async () => {
      const { client, reply } = await session(meta);
      assert.equal(reply.meta.msg_type, 'zwsx.merr');
      assert.equal(reply.meta.status, 403);
      assert.equal(reply.meta.code, 'invalid_credentials');
      const closed = await client.closed;
      assert.equal(closed.code, 1008);
    });
  }

  test('a failed login does not disturb other clients', async () => {
    const { client: good } = await session({ username: 'acme', secret: 'correct horse' });
    const { client: bad } = await session({ username: 'acme', secret: 'nope' });
    await bad.closed;
    assert.deepEqual((await good.invoke({})).data, { pong: 'zato' });
    good.close();
  });
});

describe('security definitions', () => {
  test('the API never returns the password, and the database holds only a scrypt hash and a sealed copy', async () => {
    const created = await server.api('POST', '/api/security', {
      name: 'hidden',
      type: 'basic_auth',
      username: 'u',
      password: 'p4ssw0rd-visible?',
    });
    const list = await fetch(`${server.adminUrl}/api/security`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const text =
      JSON.stringify(created.body) + (await list.text()) + JSON.stringify((await server.api('GET', '/api/security/hidden')).body);
    assert.doesNotMatch(text, /p4ssw0rd|secretHash|secretSealed|scrypt/);
    // CAST: a PostgreSQL store may keep the body as jsonb; the check is on the text as stored.
    const row = await queryStored<{ body: string }>(
      server.settings.db,
      "select cast(body as text) as body from config_object where kind = 'security' and name = 'hidden'",
    );
    assert.ok(row, 'the definition is stored');
    assert.doesNotMatch(row.body, /p4ssw0rd/);
    const stored = JSON.parse(row.body);
    assert.match(stored.secretHash, /^scrypt\$16384\$8\$1\$/);
    assert.match(stored.secretSealed, /^aes256gcm\$/);
  });

  test('PUT without a password keeps the old one; with one, replaces it', async () => {
    await server.api('POST', '/api/security', { name: 'rotating', type: 'basic_auth', username: 'r', password: 'one' });
    const url = await createChannel(server, { name: 'rotating-chan', service: 'zato.ping', security: 'rotating' });
    const tryLogin = async (secret: string) => {
      const c = await TestClient.connect(url);
      const reply = await c.createSession({ username: 'r', secret });
      c.ws.terminate();
      return reply.meta.msg_type;
    };
    assert.equal(
      (await server.api('PUT', '/api/security/rotating', { name: 'rotating', type: 'basic_auth', username: 'r' })).status,
      200,
    );
    assert.equal(await tryLogin('one'), 'zwsx.rspa');
    await server.api('PUT', '/api/security/rotating', { name: 'rotating', type: 'basic_auth', username: 'r', password: 'two' });
    assert.equal(await tryLogin('one'), 'zwsx.merr');
    assert.equal(await tryLogin('two'), 'zwsx.rspa');
  });

  test('an apikey definition checks the secret alone', async () => {
    await server.api('POST', '/api/security', { name: 'key', type: 'apikey', secret: 'k-123' });
    const url = await createChannel(server, { name: 'keyed', service: 'zato.ping', security: 'key' });
    const ok = await TestClient.connect(url);
    assert.equal((await ok.createSession({ secret: 'k-123' })).meta.msg_type, 'zwsx.rspa');
    ok.close();
    const bad = await TestClient.connect(url);
    assert.equal((await bad.createSession({ secret: 'k-124' })).meta.status, 403);
  });

  test('a plain channel with security needs HTTP Basic at the handshake: 401 without it', async () => {
    const url = await createChannel(server, {
      name: 'plain-secured',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      security: 'partners',
    });
    await assert.rejects(TestClient.connect(url), (err: { status?: number }) => err.status === 401);
    await assert.rejects(
      TestClient.connect(url, { headers: { authorization: `Basic ${Buffer.from('acme:wrong').toString('base64')}` } }),
      (err: { status?: number }) => err.status === 401,
    );
    const ok = await TestClient.connect(url, {
      headers: { authorization: `Basic ${Buffer.from('acme:correct horse').toString('base64')}` },
    });
    ok.send('in');
    assert.equal(await ok.nextText(), 'in');
    ok.close();
    // The scheme's name is case-insensitive (RFC 9110 §11.1).
    for (const scheme of ['basic', 'BASIC']) {
      const c = await TestClient.connect(url, {
        headers: { authorization: `${scheme} ${Buffer.from('acme:correct horse').toString('base64')}` },
      });
      c.close();
    }
    await assert.rejects(
      TestClient.connect(url, { headers: { authorization: `Basicx ${Buffer.from('acme:correct horse').toString('base64')}` } }),
      (err: { status?: number }) => err.status === 401,
    );
  });

  test('changing a channel’s security disconnects its clients (1012)', async () => {
    const url = await createChannel(server, { name: 'tightened', service: 'zato.ping' });
    const client = await TestClient.connect(url);
    await client.createSession();
    const config = (await server.api('GET', '/api/channels/wsx/tightened')).body;
    delete config.runtime;
    await server.api('PUT', '/api/channels/wsx/tightened', { ...config, security: 'partners' });
    assert.equal((await client.closed).code, 1012);
  });
});
