// The web admin's security parts in Debian's Chromium against a real server: a jwt definition made in the form
// (its PEM key keeps its line breaks) verifies tokens, a zato channel with no pub/sub patterns is flagged in the
// channel list, and a topic's page shows who may publish and subscribe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, loggedInPage } from './helpers/browser.js';
import { freePort, startTestServer, TEST_TOKEN, waitFor, type TestServer } from './helpers/server.js';
import { TestClient } from './helpers/wsx-client.js';

const skip = browserSkipReason();
let server: TestServer;
let browser: Browser;
let page: Page;

const row = (key: string) => page.locator(`tr[data-row="${key}"]`);

describe('web admin security parts in Chromium', { skip }, () => {
  before(async () => {
    server = await startTestServer();
    ({ browser, page } = await loggedInPage(server.adminUrl, TEST_TOKEN, { width: 1280, height: 800 }));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a jwt definition made in the form with a PEM public key, issuer and audiences verifies tokens', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(pair.publicKey);
    await page.goto(`${server.adminUrl}/#/security/new`);
    await page.fill('input[name=name]', 'web-jwt');
    await page.selectOption('select[name=type]', 'jwt');
    assert.equal(await page.locator('textarea[name=publicKey]').count(), 1, 'a PEM is edited in a multi-line field');
    await page.fill('textarea[name=publicKey]', pem);
    await page.fill('input[name=issuer]', 'https://idp.example.com');
    await page.fill('textarea[name=audience]', 'switchboard\nother');
    await page.click('button[type=submit]');
    await row('web-jwt').getByText('jwt', { exact: true }).waitFor();
    const view = (await server.api('GET', '/api/security/web-jwt')).body as Record<string, unknown>;
    assert.equal(view.keyKind, 'publicKey');
    assert.equal(view.publicKey, pem, 'the PEM arrived with its line breaks');
    assert.deepEqual(view.audience, ['switchboard', 'other']);

    const port = await freePort();
    await server.api('POST', '/api/channels/wsx', {
      name: 'web-jwt-chan',
      address: `ws://127.0.0.1:${port}/jwt`,
      service: 'zato.ping',
      security: 'web-jwt',
    });
    const token = await new SignJWT({ sub: 'web', iss: 'https://idp.example.com', aud: 'other' })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(pair.privateKey);
    const client = await waitFor(
      () => TestClient.connect(`ws://127.0.0.1:${port}/jwt`).catch(() => undefined),
      3000,
      'listening',
    );
    assert.equal((await client.createSession({ secret: token })).meta.msg_type, 'zwsx.rspa');
    client.close();
  });

  test('the channel list flags a zato channel with no pub/sub patterns; the topic page shows who may publish and subscribe', async () => {
    for (const [name, topicPatterns] of [
      ['web-open', []],
      ['web-shut', ['pub=/web/acl/*', 'sub=/other/*']],
    ] as const) {
      const res = await server.api('POST', '/api/channels/wsx', {
        name,
        address: `ws://127.0.0.1:${await freePort()}/${name}`,
        service: 'helpers.web-sockets-gateway',
        topicPatterns,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    await server.api('POST', '/api/pubsub/topics', { name: '/web/acl/orders' });

    await page.goto(`${server.adminUrl}/#/channels`);
    await row('web-open').getByText('⚠ any topic').waitFor();
    await row('web-shut').getByText('restricted').waitFor();
    assert.equal(await row('web-shut').getByText('⚠ any topic').count(), 0);

    await page.goto(`${server.adminUrl}/#/pubsub`);
    await page.click('a:has-text("/web/acl/orders")');
    await page.getByRole('heading', { name: 'Who may publish and subscribe' }).waitFor();
    const cells = async (name: string) => (await row(name).locator('td').allTextContents()).map((t) => t.trim());
    await waitFor(async () => (await row('web-shut').count()) > 0, 6000, 'the access table');
    assert.deepEqual((await cells('web-shut')).slice(2, 5), ['yes', 'no', 'restricted']);
    assert.deepEqual((await cells('web-open')).slice(2, 5), ['yes', 'yes', '⚠ none: any topic']);
  });
});
