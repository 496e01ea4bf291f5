// TLS set through the web admin's forms in Debian's Chromium: a wss:// channel made in the channel form with a
// certificate made by the test serves a real wss client that trusts it; an outgoing connection's tlsCaFile and
// tlsRejectUnauthorized, edited in the outgoing form, decide whether it connects to that wss:// remote; files that do
// not exist are refused under their field and nothing is saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, loggedInPage } from './helpers/browser.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';
import { selfSigned, type CertFiles } from './helpers/tls-certs.js';
import { TestClient } from './helpers/wsx-client.js';

const skip = browserSkipReason();
let server: TestServer;
let browser: Browser;
let page: Page;
let dir: string;
let pair: CertFiles;

const row = (key: string) => page.locator(`tr[data-row="${key}"]`);
const field = (name: string) => page.locator('.field', { has: page.locator(`[name="${name}"]`) });
const view = async (path: string) => (await server.api('GET', path)).body as Record<string, unknown>;
/** The stored configuration as JSON, without the live state. */
const config = async (path: string) => JSON.stringify({ ...(await view(path)), runtime: undefined });

/** Fills the open form's text fields and picks its selects, then submits it. */
async function submit(fill: Record<string, string>, select: Record<string, string> = {}): Promise<void> {
  for (const [key, value] of Object.entries(fill)) await page.fill(`[name="${key}"]`, value);
  for (const [key, value] of Object.entries(select)) await page.selectOption(`select[name="${key}"]`, value);
  await page.click('button[type=submit]');
}

/** Opens the edit form of `path` (`channels/form-wss`), waiting for its stored values. */
async function openEdit(path: string): Promise<void> {
  await page.goto(`${server.adminUrl}/#/${path.replace('/', '/edit/')}`);
  await page.locator('input[name=address]').waitFor();
}

/** The field's error shown in the page, the form still open, the stored object unchanged. */
async function refused(name: string, message: RegExp, apiPath: string, stored: string): Promise<void> {
  await field(name).and(page.locator('.invalid')).getByRole('alert').filter({ hasText: message }).waitFor();
  assert.match(page.url(), /\/edit\/|\/new$/, 'the form stays open');
  assert.equal(await config(apiPath), stored, 'nothing was saved');
}

describe('web admin: TLS through the forms, in Chromium', { skip }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-web-tls-'));
    pair = selfSigned(dir, 'web');
    server = await startTestServer();
    ({ browser, page } = await loggedInPage(server.adminUrl, TEST_TOKEN));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a wss:// channel made in the form serves a wss client that trusts its certificate; a missing file is refused', async () => {
    const url = `wss://127.0.0.1:${await freePort()}/secure`;
    await page.goto(`${server.adminUrl}/#/channels/new`);
    await submit({ name: 'form-wss', address: url, service: 'zato.helpers.echo' });
    // wss:// without its files: the server names the field.
    await field('tlsCertFile').and(page.locator('.invalid')).filter({ hasText: 'A wss:// address needs tlsCertFile' }).waitFor();
    assert.equal((await server.api('GET', '/api/channels/wsx/form-wss')).status, 404, 'nothing was saved');
    await submit({ tlsCertFile: pair.certFile, tlsKeyFile: pair.keyFile });
    await row('form-wss').getByText('listening').waitFor();
    const saved = await view('/api/channels/wsx/form-wss');
    assert.deepEqual([saved.address, saved.tlsCertFile, saved.tlsKeyFile], [url, pair.certFile, pair.keyFile]);

    const client = await TestClient.connect(url, { ca: readFileSync(pair.certFile) });
    assert.equal((await client.createSession()).meta.status, 200);
    assert.deepEqual((await client.invoke({ over: 'tls' })).data, { over: 'tls' });
    client.close();
    await assert.rejects(TestClient.connect(url), /self-signed|self signed/, 'a client without the CA is refused');

    // Editing it to a certificate file that does not exist is refused; the channel keeps serving the old one.
    await openEdit('channels/form-wss');
    assert.equal(await page.inputValue('input[name=tlsCertFile]'), pair.certFile);
    const stored = await config('/api/channels/wsx/form-wss');
    await submit({ tlsCertFile: join(dir, 'missing.pem') });
    await refused('tlsCertFile', /missing\.pem/, '/api/channels/wsx/form-wss', stored);
    await submit({ tlsCertFile: pair.certFile, tlsKeyFile: join(dir, 'missing.key') });
    await refused('tlsKeyFile', /missing\.key/, '/api/channels/wsx/form-wss', stored);
    const again = await TestClient.connect(url, { ca: readFileSync(pair.certFile) });
    assert.equal((await again.createSession()).meta.status, 200);
    again.close();
  });

  test("an outgoing connection's tlsCaFile and tlsRejectUnauthorized set in the form decide whether it connects", async () => {
    const remote = `wss://127.0.0.1:${await freePort()}/remote`;
    const res = await server.api('POST', '/api/channels/wsx', {
      name: 'form-remote',
      address: remote,
      service: 'zato.helpers.echo',
      protocol: 'plain',
      tlsCertFile: pair.certFile,
      tlsKeyFile: pair.keyFile,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const api = '/api/outgoing/wsx/form-out';
    const state = async () => (await view(api)).runtime as { state: string; lastError?: string };

    await page.goto(`${server.adminUrl}/#/outgoing/new`);
    await submit(
      { name: 'form-out', address: remote, tlsCaFile: pair.certFile, 'reconnect.initial': '0.05', 'reconnect.max': '0.2' },
      { isZato: 'false' },
    );
    await row('form-out')
      .locator('.badge', { hasText: /^connected$/ })
      .waitFor();
    let saved = await view(api);
    assert.deepEqual([saved.tlsCaFile, saved.tlsRejectUnauthorized], [pair.certFile, true]);

    // Without the CA the remote's self-signed certificate is not trusted: it keeps retrying with the reason shown.
    await openEdit('outgoing/form-out');
    assert.equal(await page.inputValue('input[name=tlsCaFile]'), pair.certFile);
    await submit({ tlsCaFile: '' });
    await page.waitForURL(/#\/outgoing$/);
    await row('form-out')
      .locator('.last-error')
      .filter({ hasText: /not trusted/ })
      .waitFor();
    saved = await view(api);
    assert.equal(saved.tlsCaFile, null, 'the emptied field is saved as null');
    assert.notEqual((await state()).state, 'connected');

    // tlsRejectUnauthorized off: it connects without verifying.
    await openEdit('outgoing/form-out');
    await submit({}, { tlsRejectUnauthorized: 'false' });
    await page.waitForURL(/#\/outgoing$/);
    await row('form-out')
      .locator('.badge', { hasText: /^connected$/ })
      .waitFor();
    saved = await view(api);
    assert.deepEqual([saved.tlsCaFile, saved.tlsRejectUnauthorized], [null, false]);

    // A CA file that does not exist is refused under its field.
    await openEdit('outgoing/form-out');
    assert.equal(await page.inputValue('select[name=tlsRejectUnauthorized]'), 'false');
    const stored = await config(api);
    await submit({ tlsCaFile: join(dir, 'missing-ca.pem') });
    await refused('tlsCaFile', /missing-ca\.pem/, api, stored);
  });
});
