// A jwt definition's JWKS URL as an attacker or a broken identity provider would have it: failing, hanging,
// answering garbage or too much, and tokens naming unknown kids. Each must refuse tokens without the server fetching
// the JWKS once per token (an attacker's handshakes would become the server's requests to the identity provider).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { JWKS_TIMING } from '../src/security/index.js';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

type Mode = 'ok' | 'status500' | 'garbage' | 'notJwks' | 'declaredHuge' | 'streamedHuge' | 'hang';

let server: TestServer;
let jwks: Server;
let jwksBase: string;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let jwk: JWK;
/** Requests per JWKS path (one path per definition), and how each path answers. */
const hits = new Map<string, number>();
const modes = new Map<string, Mode>();

function answer(res: ServerResponse, mode: Mode): void {
  switch (mode) {
    case 'ok':
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] }));
      return;
    case 'status500':
      res.writeHead(500).end(JSON.stringify({ keys: [jwk] }));
      return;
    case 'garbage':
      res.end('<html>not json</html>');
      return;
    case 'notJwks':
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: 'none' }));
      return;
    case 'declaredHuge':
      // 10 MB announced: refused from the header, before the body is read.
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('{"keys":[');
      return;
    case 'streamedHuge': {
      // 10 MB without a length: the reader stops at its bound.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":["');
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const more = (): void => {
        while (sent < 160) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('"]}');
      };
      more();
      return;
    }
    case 'hang':
      return;
  }
}

before(async () => {
  JWKS_TIMING.timeoutMs = 500;
  JWKS_TIMING.failureBackoffMs = 60_000;
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  jwks = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.on('error', () => undefined);
    answer(res, modes.get(path) ?? 'ok');
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksBase = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  jwks.closeAllConnections();
  jwks.close();
});

/** A jwt definition on JWKS path `/<name>` answering as `mode`, and a zato channel using it. */
async function channelWithJwks(name: string, mode: Mode): Promise<string> {
  modes.set(`/${name}`, mode);
  const res = await server.api('POST', '/api/security', { name, type: 'jwt', jwksUrl: `${jwksBase}/${name}` });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return createChannel(server, { name, service: 'zato.ping', security: name }, `/${name}`);
}

function token(kid = 'k1'): Promise<string> {
  return new SignJWT({ sub: 'eve' }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
}

/** One create-session with `jwt`: true when a session was made (the client is closed either way). */
async function accepted(url: string, jwt: string): Promise<boolean> {
  const client = await TestClient.connect(url);
  try {
    const reply = await client.createSession({ secret: jwt });
    if (reply.meta.msg_type !== 'zwsx.rspa') assert.equal(reply.meta.code, 'invalid_credentials', JSON.stringify(reply));
    return reply.meta.msg_type === 'zwsx.rspa';
  } finally {
    client.close();
  }
}

describe('a JWKS that cannot be used', () => {
  for (const mode of ['status500', 'garbage', 'notJwks', 'declaredHuge', 'streamedHuge'] as const) {
    test(`${mode}: tokens are refused, and the JWKS is fetched once for five tokens (failureBackoffMs)`, async () => {
      const name = `jwks-${mode.toLowerCase()}`;
      const url = await channelWithJwks(name, mode);
      for (let i = 0; i < 5; i++) assert.equal(await accepted(url, await token()), false, `token ${i}`);
      assert.equal(hits.get(`/${name}`), 1, 'one fetch, not one per token');
    });
  }

  test('hang: the fetch times out (timeoutMs); tokens after it are refused at once, with no new request', async () => {
    const url = await channelWithJwks('jwks-hang', 'hang');
    let started = Date.now();
    assert.equal(await accepted(url, await token()), false);
    assert.ok(Date.now() - started >= JWKS_TIMING.timeoutMs - 50, `refused after ${Date.now() - started} ms`);
    started = Date.now();
    for (let i = 0; i < 3; i++) assert.equal(await accepted(url, await token()), false);
    assert.ok(Date.now() - started < 3 * JWKS_TIMING.timeoutMs, `three more took ${Date.now() - started} ms`);
    assert.equal(hits.get('/jwks-hang'), 1);
  });

  test('once the back-off has passed, a JWKS that works again is fetched and its tokens accepted', async () => {
    const url = await channelWithJwks('jwks-recovers', 'status500');
    JWKS_TIMING.failureBackoffMs = 300;
    try {
      assert.equal(await accepted(url, await token()), false);
      modes.set('/jwks-recovers', 'ok');
      await waitFor(async () => accepted(url, await token()), 5000, 'a token accepted after the back-off');
      assert.equal(hits.get('/jwks-recovers'), 2, 'one failed fetch, one that worked');
    } finally {
      JWKS_TIMING.failureBackoffMs = 60_000;
    }
  });
});

describe('tokens naming unknown kids', () => {
  test('are refused, and refetch the JWKS at most once per cooldownMs however many come', async () => {
    const url = await channelWithJwks('jwks-kids', 'ok');
    assert.ok(await accepted(url, await token()));
    for (let i = 0; i < 10; i++) assert.equal(await accepted(url, await token(`unknown-${i}`)), false);
    assert.equal(hits.get('/jwks-kids'), 1, `within the ${JWKS_TIMING.cooldownMs} ms cooldown no refetch`);
    assert.ok(await accepted(url, await token()), 'the known key still verifies from the cache');
  });
});

describe('an identity provider that goes down after the cache expired', () => {
  test('the last good set keeps verifying its keys for staleIfErrorMs; then, and for unknown kids, tokens are refused', async () => {
    const saved = { ...JWKS_TIMING };
    // cacheMaxAgeMs is read when the definition's verifier is made, staleIfErrorMs at each fetch.
    JWKS_TIMING.cacheMaxAgeMs = 200;
    JWKS_TIMING.cooldownMs = 0;
    JWKS_TIMING.staleIfErrorMs = 1500;
    try {
      const url = await channelWithJwks('jwks-stale', 'ok');
      assert.ok(await accepted(url, await token()));
      modes.set('/jwks-stale', 'status500');
      await new Promise((resolve) => setTimeout(resolve, 300)); // past cacheMaxAgeMs: jose refetches
      assert.ok(await accepted(url, await token()), 'the known key verifies from the last good set');
      assert.equal(hits.get('/jwks-stale'), 2, 'the refetch was tried (and failed)');
      assert.equal(await accepted(url, await token('rotated-in')), false, 'a kid the last good set lacks is refused');
      await waitFor(async () => !(await accepted(url, await token())), 5000, 'refused once the last good set is too old');
    } finally {
      Object.assign(JWKS_TIMING, saved);
    }
  });
});
