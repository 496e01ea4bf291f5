// The tap in the web admin, in Debian's Chromium (playwright-core) against a real server: log in, open a channel's
// page, start a tap, watch a real client's frames arrive masked, stop it. Screenshot: channel-tap.png (see
// test/web-admin.test.ts for $SWITCHBOARD_SCREENSHOTS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, loggedInPage } from './helpers/browser.js';
import { createChannel, startTestServer, TEST_TOKEN, waitFor, type TestServer } from './helpers/server.js';
import { TestClient } from './helpers/wsx-client.js';

const skip = browserSkipReason();
const shots = process.env.SWITCHBOARD_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'switchboard-shots-'));
const PASSWORD = 'do-not-show-this-password';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLW5vdC1zaG93bg';

let server: TestServer;
let browser: Browser;
let page: Page;
let url: string;

const taps = async (): Promise<unknown[]> => (await server.api('GET', '/api/channels/wsx/tap-web/taps')).body;

describe('the tap in the web admin, in Chromium', { skip }, () => {
  before(async () => {
    server = await startTestServer();
    url = await createChannel(server, { name: 'tap-web', service: 'zato.helpers.echo' });
    ({ browser, page } = await loggedInPage(server.adminUrl, TEST_TOKEN, { width: 1280, height: 900 }));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('start a tap on one client, see its frames in and out with secrets masked, then stop it', async () => {
    const client = await TestClient.connect(url);
    await client.createSession({ client_id: 'tapped-printer' });
    const other = await TestClient.connect(url);
    await other.createSession({ client_id: 'not-tapped' });
    const clients = (await server.api('GET', '/api/channels/wsx/tap-web/clients')).body as Array<{
      pubClientId: string;
      extClientId: string;
    }>;
    const tapped = clients.find((c) => c.extClientId === 'tapped-printer')!.pubClientId;

    await page.goto(`${server.adminUrl}/#/channels/view/tap-web`);
    const panel = page.getByRole('region', { name: 'Tap' });
    await panel.getByRole('heading', { name: 'Tap' }).waitFor();
    // The client list comes with the page's poll; then this client is chosen.
    await panel.locator(`#tap-client option[value="${tapped}"]`).waitFor({ state: 'attached' });
    await panel.locator('#tap-client').selectOption(tapped);
    await panel.getByRole('button', { name: 'Start' }).click();
    await panel.locator('.badge', { hasText: 'tapping' }).waitFor();
    await waitFor(async () => (await taps()).length === 1, 5000, 'the tap on the server');

    await other.invoke({ from: 'the other client' });
    const reply = await client.invoke({ label: 'label-42', password: PASSWORD, auth: `Bearer ${JWT}` });
    assert.equal(reply.data.password, PASSWORD, 'the client itself gets its data unmasked');

    const frames = page.getByTestId('tap-frames');
    const inbound = frames.locator('li[data-direction="in"]', { hasText: 'label-42' });
    const outbound = frames.locator('li[data-direction="out"]', { hasText: 'label-42' });
    await inbound.waitFor();
    await outbound.waitFor();
    assert.match(await inbound.innerText(), /→ in/);
    assert.match(await outbound.innerText(), /← out/);
    assert.match(await inbound.innerText(), /tapped-printer/, 'the row names the client');
    assert.match(await inbound.locator('code').innerText(), /"password":"\*\*\*"/);
    const shown = await frames.innerText();
    assert.ok(!shown.includes(PASSWORD), 'the password is masked');
    assert.ok(!shown.includes('c2lnbmF0dXJl'), 'the JWT is masked');
    assert.ok(!shown.includes(client.token!.slice(6)), 'the session token is masked');
    assert.ok(!shown.includes('the other client'), 'a client tap shows that client only');
    await page.screenshot({ path: join(shots, 'channel-tap.png'), fullPage: true });

    await panel.getByRole('button', { name: 'Stop' }).click();
    await panel.getByRole('button', { name: 'Start' }).waitFor();
    await frames.getByText('Tap stopped.').waitFor();
    await waitFor(async () => (await taps()).length === 0, 5000, 'the tap to stop on the server');
    // Nothing more arrives once stopped.
    const rows = await frames.locator('li').count();
    await client.invoke({ label: 'after-the-stop' });
    assert.equal(await frames.locator('li', { hasText: 'after-the-stop' }).count(), 0);
    assert.equal(await frames.locator('li').count(), rows);
    client.close();
    other.close();
  });

  test('a refused tap shows the server’s error; a tap of all clients shows skipped markers over its rate', async () => {
    await page.goto(`${server.adminUrl}/#/channels/view/tap-web`);
    const panel = page.getByRole('region', { name: 'Tap' });
    await panel.locator('#tap-client').selectOption('');
    await panel.locator('#tap-rate').fill('0');
    await panel.getByRole('button', { name: 'Start' }).click();
    await panel.getByRole('alert').filter({ hasText: 'rate must be from 1' }).waitFor();

    await panel.locator('#tap-rate').fill('1');
    await panel.getByRole('button', { name: 'Start' }).click();
    await waitFor(async () => (await taps()).length === 1, 5000, 'the tap on the server');
    const client = await TestClient.connect(url);
    await client.createSession({ client_id: 'chatty' });
    for (let i = 0; i < 20; i++) await client.invoke({ i });
    const frames = page.getByTestId('tap-frames');
    await frames
      .locator('li.tap-skipped', { hasText: /\d+ frames skipped/ })
      .first()
      .waitFor();
    await panel.getByRole('button', { name: 'Stop' }).click();
    await waitFor(async () => (await taps()).length === 0, 5000, 'the tap to stop on the server');
    client.close();
  });
});
