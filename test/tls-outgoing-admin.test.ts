import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callAdminApi } from '../src/cli/admin-api-client.js';
import { loadSettings } from '../src/server/settings.js';
import { freePort, startTestServer, TEST_TOKEN, waitFor, type TestServer } from './helpers/server.js';
import { deployTestServices } from './helpers/services.js';
import { makeCa, type CertFiles, type TestCa } from './helpers/tls-certs.js';

// Outgoing connections to wss:// remotes (verified by default), and the admin API over HTTPS.

let server: TestServer;
let dir: string;
let ca: TestCa;
let pair: CertFiles;
let remoteUrl: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  ca = makeCa(dir);
  pair = ca.issue('remote');
  server = await startTestServer();
  deployTestServices(server);
  // The remote: a wss:// plain channel of the same server.
  remoteUrl = `wss://127.0.0.1:${await freePort()}/remote`;
  const res = await server.api('POST', '/api/channels/wsx', {
    name: 'remote',
    address: remoteUrl,
    service: 'zato.helpers.echo',
    protocol: 'plain',
    tlsCertFile: pair.certFile,
    tlsKeyFile: pair.keyFile,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function outgoing(name: string, fields: Record<string, unknown>, address = remoteUrl) {
  const res = await server.api('POST', '/api/outgoing/wsx', {
    name,
    address,
    pingInterval: 0,
    reconnect: { initial: 0.05, max: 0.1 },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return () => server.outgoingManager.state(name) as { lastError?: string; reconnects: number; connected: number };
}

describe('outgoing wss://', () => {
  test('an untrusted remote is refused with a typed, clear lastError, and retried', async () => {
    const state = await outgoing('untrusted', {});
    const seen = await waitFor(() => state().lastError, 5000, 'an error');
    assert.match(seen, /^The remote's certificate is not trusted by the system's CAs \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    await waitFor(() => state().reconnects >= 2, 5000, 'reconnect attempts');
    assert.equal(state().connected, 0);
  });

  test('tlsCaFile trusts the remote; tlsRejectUnauthorized: false accepts it', async () => {
    const withCa = await outgoing('with-ca', { tlsCaFile: ca.caFile });
    await waitFor(() => withCa().connected === 1, 5000, 'connected with the CA');
    const insecure = await outgoing('insecure', { tlsRejectUnauthorized: false });
    await waitFor(() => insecure().connected === 1, 5000, 'connected without verification');
  });

  test('with tlsCaFile the host name is still verified', async () => {
    const other = ca.issue('other-name', 'subjectAltName=DNS:other.example');
    const address = `wss://127.0.0.1:${await freePort()}/other`;
    const res = await server.api('POST', '/api/channels/wsx', {
      name: 'other-name',
      address,
      service: 'zato.helpers.echo',
      protocol: 'plain',
      tlsCertFile: other.certFile,
      tlsKeyFile: other.keyFile,
    });
    assert.equal(res.status, 201);
    const state = await outgoing('wrong-host', { tlsCaFile: ca.caFile }, address);
    assert.match(await waitFor(() => state().lastError, 5000, 'an error'), /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('tlsCaFile: a ws:// address, a missing or non-regular file is a 400 naming it', async () => {
    for (const [address, file] of [
      ['ws://127.0.0.1:1/x', ca.caFile],
      [remoteUrl, join(dir, 'nope.pem')],
      [remoteUrl, pair.keyFile],
      [remoteUrl, '/dev/zero'],
      [remoteUrl, dir],
    ] as const) {
      const res = await server.api('POST', '/api/outgoing/wsx', { name: 'bad-ca', address, tlsCaFile: file });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.field, 'tlsCaFile');
    }
  });
});

/** An HTTPS request trusting the test CA: status, headers and body. */
function httpsRequest(url: string, method: string, body?: unknown) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    const req = request(
      url,
      { method, ca: readFileSync(ca.caFile), headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text && JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('admin over HTTPS', () => {
  test('the admin serves HTTPS; the session cookie is Secure; the CLI client reaches it with a CA file', async () => {
    const admin = ca.issue('admin');
    const https = await startTestServer({ adminTlsCert: admin.certFile, adminTlsKey: admin.keyFile });
    try {
      assert.match(https.adminUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      const login = await httpsRequest(`${https.adminUrl}/api/session`, 'POST', { token: TEST_TOKEN });
      assert.equal(login.status, 200);
      const cookie = String(login.headers['set-cookie']);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; Secure/);
      assert.match(cookie, /SameSite=Strict/);
      const conn = { url: https.adminUrl, token: TEST_TOKEN };
      await assert.rejects(callAdminApi(conn, 'GET', '/api/health'), /certificate is not trusted: give its CA with --ca/);
      const health = (await callAdminApi({ ...conn, caFile: ca.caFile }, 'GET', '/api/channels/wsx')) as unknown[];
      assert.ok(Array.isArray(health));
    } finally {
      await https.stop();
    }
  });

  test('one of adminTlsCert / adminTlsKey alone is a start-up error; unusable files name the setting', async () => {
    assert.throws(() => loadSettings({}, { SWITCHBOARD_ADMIN_TLS_CERT: pair.certFile }, dir), {
      message: /adminTlsCert is set but adminTlsKey is not.*SWITCHBOARD_ADMIN_TLS_KEY/,
    });
    assert.throws(() => loadSettings({}, { SWITCHBOARD_ADMIN_TLS_KEY: pair.keyFile }, dir), {
      message: /adminTlsKey is set but adminTlsCert is not/,
    });
    const other = ca.issue('admin-other');
    await assert.rejects(startTestServer({ adminTlsCert: pair.certFile, adminTlsKey: other.keyFile }), {
      message: /adminTlsKey .* is not the private key of the certificate in adminTlsCert/,
    });
  });
});
