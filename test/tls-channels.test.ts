import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { freePort, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { deployTestServices } from './helpers/services.js';
import { makeCa, selfSigned, type CertFiles, type TestCa } from './helpers/tls-certs.js';
import { TestClient } from './helpers/wsx-client.js';

// wss:// channels: served over TLS with PEM files the server reads, checked when configured, re-read when they change.

let server: TestServer;
let dir: string;
let ca: TestCa;
let pairA: CertFiles;
let pairB: CertFiles;
let ca2: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  ca = makeCa(dir);
  pairA = ca.issue('a');
  pairB = ca.issue('b');
  ca2 = readFileSync(ca.caFile);
  // A short headers timeout: it is the TLS handshake's deadline too.
  server = await startTestServer({ channelHeadersTimeoutMs: 300 });
  deployTestServices(server);
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function wssChannel(body: Record<string, unknown>, port?: number, path = '/ws'): Promise<{ url: string; port: number }> {
  const p = port ?? (await freePort());
  const url = `wss://127.0.0.1:${p}${path}`;
  const res = await server.api('POST', '/api/channels/wsx', { address: url, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { url, port: p };
}

/** The SHA-256 fingerprint of the certificate a new TLS client is shown on `port`. */
function peerFingerprint(port: number, options: ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca2, ...options }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the server closes a raw socket it was given (after `send`, if any). */
function closedByServer(port: number, send?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => (send ? socket.write(send) : undefined));
    socket.on('data', () => undefined);
    socket.once('error', () => resolve());
    socket.once('close', () => resolve());
    setTimeout(() => reject(new Error('the server kept the socket open')), 8000).unref();
  });
}

describe('wss:// channels', () => {
  test('a zato and a plain channel share a wss port; a client given the CA talks to both over TLS 1.2+', async () => {
    const files = { tlsCertFile: pairA.certFile, tlsKeyFile: pairA.keyFile };
    const zato = await wssChannel({ name: 'tls-zato', service: 'test.add', ...files });
    const plain = await wssChannel(
      { name: 'tls-plain', service: 'zato.helpers.echo', protocol: 'plain', ...files },
      zato.port,
      '/p',
    );
    const client = await TestClient.connect(zato.url, { ca: ca2 });
    assert.equal((await client.createSession()).meta.status, 200);
    assert.deepEqual((await client.invoke({ a: 2, b: 3 })).data, { sum: 5 });
    const socket = (client.ws as unknown as { _socket: TLSSocket })._socket;
    assert.match(socket.getProtocol() ?? '', /^TLSv1\.[23]$/);
    assert.equal(socket.getPeerCertificate().fingerprint256, pairA.fingerprint);
    const echo = await TestClient.connect(plain.url, { ca: ca2 });
    echo.send('over tls');
    assert.equal(await echo.nextText(), 'over tls');
    const state = (await server.api('GET', '/api/channels/wsx/tls-zato')).body;
    assert.equal(state.tlsCertFile, pairA.certFile);
    assert.equal(state.runtime.state, 'listening');
    client.close();
    echo.close();
  });

  test('a client that does not trust the certificate is refused; a plain ws:// client too; the port keeps serving', async () => {
    const { url, port } = await wssChannel({
      name: 'tls-untrusted',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      tlsCertFile: pairA.certFile,
      tlsKeyFile: pairA.keyFile,
    });
    await assert.rejects(TestClient.connect(url), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      return true;
    });
    await assert.rejects(TestClient.connect(url.replace('wss:', 'ws:')));
    // A plain-HTTP client gets the socket closed (no answer in clear), and so does a client that never handshakes.
    await closedByServer(port, 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await closedByServer(port);
    // TLS 1.1 is refused.
    await assert.rejects(peerFingerprint(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
    const ok = await TestClient.connect(url, { ca: ca2 });
    ok.send('still here');
    assert.equal(await ok.nextText(), 'still here');
    ok.close();
  });

  test('after the TLS handshake, slow headers still get 408 (headersTimeout)', async () => {
    const { port } = await wssChannel({
      name: 'tls-slow',
      service: 'test.add',
      tlsCertFile: pairA.certFile,
      tlsKeyFile: pairA.keyFile,
    });
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: ca2 }, () => socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.once('close', () => resolve(text));
      socket.once('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  test('wss:// needs both files, ws:// neither; unreadable, non-regular, oversized, non-PEM and mismatched files are 400 naming the field', async () => {
    const port = await freePort();
    const wss = `wss://127.0.0.1:${port}/x`;
    const base = { name: 'tls-bad', service: 'test.add' };
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    const huge = join(dir, 'huge.pem');
    writeFileSync(huge, Buffer.concat([readFileSync(pairA.certFile), Buffer.alloc(2 * 1024 * 1024, 0x41)]));
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ address: wss }, 'tlsCertFile', /needs tlsCertFile/],
      [{ address: wss, tlsCertFile: pairA.certFile }, 'tlsKeyFile', /needs tlsKeyFile/],
      [{ address: `ws://127.0.0.1:${port}/x`, tlsCertFile: pairA.certFile }, 'tlsCertFile', /wss:\/\/ addresses only/],
      [{ address: wss, tlsCertFile: join(dir, 'missing.pem'), tlsKeyFile: pairA.keyFile }, 'tlsCertFile', /Cannot read/],
      [{ address: wss, tlsCertFile: pairA.keyFile, tlsKeyFile: pairA.keyFile }, 'tlsCertFile', /PEM certificate/],
      [{ address: wss, tlsCertFile: pairA.certFile, tlsKeyFile: pairA.certFile }, 'tlsKeyFile', /PEM private key/],
      [{ address: wss, tlsCertFile: pairA.certFile, tlsKeyFile: pairB.keyFile }, 'tlsKeyFile', /not the private key/],
      // Read synchronously, so none of these may stall the server: a FIFO (open waits for a writer), a device that
      // never ends, a directory, a file far bigger than any PEM.
      [{ address: wss, tlsCertFile: fifo, tlsKeyFile: pairA.keyFile }, 'tlsCertFile', /not a regular file/],
      [{ address: wss, tlsCertFile: pairA.certFile, tlsKeyFile: '/dev/zero' }, 'tlsKeyFile', /not a regular file/],
      [{ address: wss, tlsCertFile: dir, tlsKeyFile: pairA.keyFile }, 'tlsCertFile', /not a regular file/],
      [{ address: wss, tlsCertFile: huge, tlsKeyFile: pairA.keyFile }, 'tlsCertFile', /over the 1048576/],
    ];
    for (const [fields, field, message] of cases) {
      const res = await server.api('POST', '/api/channels/wsx', { ...base, ...fields });
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.equal(res.body.error.code, 'invalid_input');
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
      assert.match(res.body.error.message, message);
    }
    assert.equal((await server.api('GET', '/api/channels/wsx/tls-bad')).status, 404);
  });

  test('channels on one port must agree on the scheme and the files: else 409 tls_mismatch', async () => {
    const { port } = await wssChannel({
      name: 'tls-owner',
      service: 'test.add',
      tlsCertFile: pairA.certFile,
      tlsKeyFile: pairA.keyFile,
    });
    const plain = await server.api('POST', '/api/channels/wsx', {
      name: 'tls-other-scheme',
      service: 'test.add',
      address: `ws://127.0.0.1:${port}/plain`,
    });
    assert.equal(plain.status, 409);
    assert.deepEqual([plain.body.error.code, plain.body.error.field], ['tls_mismatch', 'address']);
    const other = await server.api('POST', '/api/channels/wsx', {
      name: 'tls-other-files',
      service: 'test.add',
      address: `wss://127.0.0.1:${port}/other`,
      tlsCertFile: pairB.certFile,
      tlsKeyFile: pairB.keyFile,
    });
    assert.equal(other.status, 409);
    assert.deepEqual([other.body.error.code, other.body.error.field], ['tls_mismatch', 'tlsCertFile']);
  });

  test('rotation: new files are served to new clients, a half-written pair is ignored, connected clients stay', async () => {
    const live = join(dir, 'live');
    mkdirSync(live);
    const certFile = join(live, 'server.pem');
    const keyFile = join(live, 'server.key');
    copyFileSync(pairA.certFile, certFile);
    copyFileSync(pairA.keyFile, keyFile);
    const { url, port } = await wssChannel({
      name: 'tls-rotate',
      service: 'test.add',
      tlsCertFile: certFile,
      tlsKeyFile: keyFile,
    });
    const client = await TestClient.connect(url, { ca: ca2 });
    await client.createSession();
    assert.equal(await peerFingerprint(port), pairA.fingerprint);

    // Replaced as tools do, by rename; the certificate first: it does not match the key yet.
    writeFileSync(join(live, 'tmp.pem'), readFileSync(pairB.certFile));
    renameSync(join(live, 'tmp.pem'), certFile);
    // Long enough for the watcher to have seen it (polls every second); not a timing assertion.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await peerFingerprint(port), pairA.fingerprint, 'a mismatched pair keeps the old certificate');

    writeFileSync(join(live, 'tmp.key'), readFileSync(pairB.keyFile));
    renameSync(join(live, 'tmp.key'), keyFile);
    await waitFor(async () => (await peerFingerprint(port)) === pairB.fingerprint, 10_000, 'the new certificate');
    assert.deepEqual((await client.invoke({ a: 1, b: 1 })).data, { sum: 2 }, 'the connected client stays connected');
    const fresh = await TestClient.connect(url, { ca: ca2 });
    const socket = (fresh.ws as unknown as { _socket: TLSSocket })._socket;
    assert.equal(socket.getPeerCertificate().fingerprint256, pairB.fingerprint);
    client.close();
    fresh.close();
  });

  test('changing the files of the last channel on a port re-contexts its listener live', async () => {
    const self = selfSigned(dir, 'self');
    const { url, port } = await wssChannel({
      name: 'tls-switch',
      service: 'test.add',
      tlsCertFile: pairA.certFile,
      tlsKeyFile: pairA.keyFile,
    });
    const client = await TestClient.connect(url, { ca: ca2 });
    await client.createSession();
    const current = (await server.api('GET', '/api/channels/wsx/tls-switch')).body;
    const { runtime: _runtime, ...config } = current;
    const res = await server.api('PUT', '/api/channels/wsx/tls-switch', {
      ...config,
      tlsCertFile: self.certFile,
      tlsKeyFile: self.keyFile,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await server.channelManager.settled();
    const selfCa = readFileSync(self.certFile);
    assert.equal(await peerFingerprint(port, { ca: selfCa }), self.fingerprint);
    assert.deepEqual((await client.invoke({ a: 2, b: 2 })).data, { sum: 4 }, 'the connected client stays connected');
    client.close();
  });
});
