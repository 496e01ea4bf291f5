import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import { JWKS_TIMING } from '../src/security/index.js';
import { Service } from '../src/index.js';
import WebSocket from 'ws';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

const SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
let server: TestServer;
let hsUrl: string;
let rsUrl: string;
let plainUrl: string;
let rsaPem: string;
let rsaPrivate: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

function hs256(claims: Record<string, unknown>, key = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(key));
}

before(async () => {
  server = await startTestServer();
  const pair = await generateKeyPair('RS256', { extractable: true });
  rsaPrivate = pair.privateKey;
  rsaPem = await exportSPKI(pair.publicKey);
  for (const body of [
    { name: 'jwt-hs', type: 'jwt', secret: SECRET, issuer: 'test-issuer', audience: ['switchboard'], clockTolerance: 0 },
    { name: 'jwt-rs', type: 'jwt', publicKey: rsaPem },
  ]) {
    const res = await server.api('POST', '/api/security', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  hsUrl = await createChannel(server, { name: 'hs', service: 'zato.ping', security: 'jwt-hs' });
  rsUrl = await createChannel(server, { name: 'rs', service: 'zato.ping', security: 'jwt-rs' });
  plainUrl = await createChannel(server, { name: 'plain-jwt', service: 'zato.ping', protocol: 'plain', security: 'jwt-rs' });
});
after(() => server.stop());

async function sessionWith(url: string, token: string): Promise<{ client: TestClient; ok: boolean }> {
  const client = await TestClient.connect(url);
  const reply = await client.createSession({ secret: token });
  return { client, ok: reply.meta.msg_type === 'zwsx.rspa' };
}

const good = { iss: 'test-issuer', aud: 'switchboard', sub: 'alice' };

describe('jwt on a zato channel', () => {
  test('a valid HS256 token creates a session', async () => {
    const { client, ok } = await sessionWith(hsUrl, await hs256(good));
    assert.ok(ok);
    assert.deepEqual((await client.invoke({})).data, { pong: 'zato' });
    client.close();
  });

  for (const [label, make] of [
    ['expired', () => hs256({ ...good, exp: Math.floor(Date.now() / 1000) - 10 })],
    ['not yet valid', () => hs256({ ...good, nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['a wrong issuer', () => hs256({ ...good, iss: 'other' })],
    ['a wrong audience', () => hs256({ ...good, aud: 'other' })],
    ['a wrong key', () => hs256(good, 'another-hmac-secret-of-at-least-32-bytes')],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`,
    ],
  ] as const) {
    test(`${label} → refused with invalid_credentials and 1008`, async () => {
      const client = await TestClient.connect(hsUrl);
      const reply = await client.createSession({ secret: await make() });
      assert.equal(reply.meta.code, 'invalid_credentials');
      assert.equal((await client.closed).code, 1008);
    });
  }

  test('a token over 4,096 characters is refused before it is verified: 400 invalid_meta naming meta.secret', async () => {
    const client = await TestClient.connect(hsUrl);
    const reply = await client.createSession({ secret: await hs256({ ...good, pad: 'x'.repeat(4096) }) });
    assert.deepEqual([reply.meta.msg_type, reply.meta.status, reply.meta.code], ['zwsx.merr', 400, 'invalid_meta']);
    assert.match(String(reply.meta.error_message), /meta\.secret must be at most 4096 characters/);
    client.close();
  });

  test('RS256 with a publicKey definition; HS/RS confusion (HS256 keyed with the PEM) refused', async () => {
    const rs = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'RS256' }).sign(rsaPrivate);
    const accepted = await sessionWith(rsUrl, rs);
    assert.ok(accepted.ok);
    accepted.client.close();
    const confused = await sessionWith(rsUrl, await hs256({ sub: 'bob' }, rsaPem));
    assert.equal(confused.ok, false);
    assert.equal((await confused.client.closed).code, 1008);
  });

  test('the session ends with 4004 when exp passes; a refresh with another sub is refused', async () => {
    const soon = Math.floor(Date.now() / 1000) + 2;
    const { client, ok } = await sessionWith(hsUrl, await hs256({ ...good, exp: soon }));
    assert.ok(ok);
    assert.equal((await client.closed).code, 4004);
    const second = await sessionWith(hsUrl, await hs256(good));
    assert.ok(second.ok);
    const refresh = await second.client.createSession({ secret: await hs256({ ...good, sub: 'mallory' }) });
    assert.equal(refresh.meta.code, 'invalid_credentials');
    assert.equal((await second.client.closed).code, 1008);
  });
});

describe('jwt on a plain channel', () => {
  const opened = (url: string, headers: Record<string, string> = {}): Promise<number> =>
    new Promise((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });

  test('Bearer header and access_token accepted; without or with a bad token 401', async () => {
    const rs = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'RS256' }).sign(rsaPrivate);
    assert.equal(await opened(plainUrl, { authorization: `Bearer ${rs}` }), 101);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    assert.equal(await opened(plainUrl, { authorization: `bearer ${rs}` }), 101);
    assert.equal(await opened(plainUrl, { authorization: `BEARER ${rs}` }), 101);
    assert.equal(await opened(`${plainUrl}?access_token=${rs}`), 101);
    assert.equal(await opened(plainUrl), 401);
    // A token too big for the request's headers (Node's 16 KiB) is refused before anything reads it.
    assert.equal(await opened(`${plainUrl}?access_token=${'e'.repeat(20_000)}`), 431);
    assert.equal(await opened(plainUrl, { authorization: `Bearer ${await hs256({ sub: 'carol' }, rsaPem)}` }), 401);
  });
});

describe('jwt expiry on a plain channel', () => {
  test('a connection opened with a Bearer token ends with 4004 within a few seconds of its exp', async () => {
    const url = await createChannel(
      server,
      { name: 'plain-exp', service: 'zato.ping', protocol: 'plain', security: 'jwt-hs' },
      '/exp',
    );
    // jwt-hs has clockTolerance 0: the deadline is exp itself, checked by the channel's sweep every second.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const client = await TestClient.connect(url, { headers: { authorization: `Bearer ${await hs256({ ...good, exp })}` } });
    const { code } = await client.closed;
    assert.equal(code, 4004);
    const late = Date.now() - exp * 1000;
    assert.ok(late >= 0 && late < 3000, `closed ${late} ms after exp`);
  });
});

describe('jwt definitions in the admin API', () => {
  test('the view never has the secret; bad config is a 400 naming the field', async () => {
    const view = await server.api('GET', '/api/security/jwt-hs');
    assert.doesNotMatch(JSON.stringify(view.body), /test-hmac-secret|secretSealed/);
    for (const [body, field] of [
      [{ name: 'b1', type: 'jwt', publicKey: rsaPem, algorithms: ['HS256'] }, 'algorithms'],
      [{ name: 'b2', type: 'jwt', secret: SECRET, algorithms: ['RS256'] }, 'algorithms'],
      [{ name: 'b3', type: 'jwt', secret: SECRET, publicKey: rsaPem }, 'publicKey'],
      [{ name: 'b4', type: 'jwt', jwksUrl: 'ftp://x/jwks' }, 'jwksUrl'],
      [{ name: 'b5', type: 'jwt', secret: 'short' }, 'secret'],
    ] as const) {
      const res = await server.api('POST', '/api/security', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(JSON.stringify(res.body), new RegExp(field));
    }
  });
});

describe('jwt with a JWKS URL', () => {
  let jwks: Server;
  let keys: JWK[] = [];
  let url: string;

  before(async () => {
    // Short cache times so that a rotation shows within the test; the server's defaults are 30 s and 10 min.
    JWKS_TIMING.cooldownMs = 0;
    JWKS_TIMING.cacheMaxAgeMs = 200;
    jwks = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const res = await server.api('POST', '/api/security', {
      name: 'jwt-jwks',
      type: 'jwt',
      jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    url = await createChannel(server, { name: 'jwks', service: 'zato.ping', security: 'jwt-jwks' });
  });
  after(() => jwks.close());

  async function keyPair(kid: string): Promise<{ jwk: JWK; sign: (sub: string) => Promise<string> }> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' };
    const sign = (sub: string): Promise<string> =>
      new SignJWT({ sub }).setProtectedHeader({ alg: 'ES256', kid }).sign(pair.privateKey);
    return { jwk, sign };
  }

  test('a new kid is accepted after a refetch; a removed key is refused once the cache is refreshed', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    keys = [first.jwk];
    const a = await sessionWith(url, await first.sign('dave'));
    assert.ok(a.ok);
    a.client.close();
    keys = [first.jwk, second.jwk];
    const b = await sessionWith(url, await second.sign('dave'));
    assert.ok(b.ok);
    b.client.close();
    keys = [second.jwk];
    await waitFor(
      async () => {
        const c = await sessionWith(url, await first.sign('dave'));
        c.client.close();
        return !c.ok;
      },
      5000,
      'the removed key refused',
    );
  });
});

describe('jwt claims and refresh', () => {
  test('services see the verified claims as this.wsx.claims; a refresh with the same sub outlives the first exp', async () => {
    class WhoAmI extends Service {
      static override serviceName = 'test.jwt.whoami';
      handle(): void {
        this.response.payload = { claims: this.wsx.claims ?? null };
      }
    }
    server.registry.replaceSource('jwt-test', [{ name: WhoAmI.serviceName, cls: WhoAmI }]);
    const url = await createChannel(server, { name: 'whoami', service: WhoAmI.serviceName, security: 'jwt-hs' }, '/whoami');
    const now = Math.floor(Date.now() / 1000);
    const { client, ok } = await sessionWith(url, await hs256({ ...good, exp: now + 2, role: 'admin' }));
    assert.ok(ok);
    try {
      const first = (await client.invoke({})).data as { claims: Record<string, unknown> };
      assert.equal(first.claims.sub, 'alice');
      assert.equal(first.claims.role, 'admin');
      const refreshed = await client.createSession({ secret: await hs256({ ...good, exp: now + 600, role: 'reader' }) });
      assert.equal(refreshed.meta.msg_type, 'zwsx.rspa', JSON.stringify(refreshed));
      // Past the first token's exp (and the sweep's second), the session is still there, with the new claims.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      const second = (await client.invoke({})).data as { claims: Record<string, unknown> };
      assert.equal(second.claims.role, 'reader');
    } finally {
      client.close();
    }
  });
});
