// The web admin in a real browser (Debian's Chromium driven by playwright-core) against a real server:
// every page a user needs to run Switchboard without programming. Screenshots go to
// $SWITCHBOARD_SCREENSHOTS (docs/images when refreshed with `npm run screenshots`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchChromium } from './helpers/browser.js';
import { PlainRemote } from './helpers/plain-remote.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';
import { TestClient } from './helpers/wsx-client.js';

const skip = browserSkipReason();
const shots = process.env.SWITCHBOARD_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'switchboard-shots-'));
let server: TestServer;
let browser: Browser;
let page: Page;

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The table row whose key (name, client id, sub key) is `key`. */
const row = (key: string) => page.locator(`tr[data-row="${key}"]`);

describe('web admin in Chromium', { skip }, () => {
  before(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a wrong token is refused on the login page; the admin token logs in', async () => {
    await page.goto(server.adminUrl);
    await page.fill('#login-token', 'not-the-token');
    await page.click('button[type=submit]');
    await page.getByRole('alert').filter({ hasText: 'Wrong admin token' }).waitFor();
    await screenshot('login');
    await page.fill('#login-token', TEST_TOKEN);
    await page.click('button[type=submit]');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'sb_session');
    assert.ok(session, 'a session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
  });

  test('create a channel through the form (inline errors first), connect a client, invoke it, disconnect it', async () => {
    const port = await freePort();
    await page.goto(`${server.adminUrl}/#/channels/new`);
    await page.fill('input[name=name]', 'web-chan');
    await page.fill('input[name=address]', `ws://127.0.0.1:${port}/web`);
    await page.fill('input[name=maxMessageSize]', '10');
    await page.click('button[type=submit]');
    // The schema says at least 64: the form says so under the field and sends nothing.
    await page.locator('.field.invalid').filter({ hasText: 'Must be at least 64' }).waitFor();
    await page.locator('.field.invalid').filter({ hasText: 'Required' }).waitFor(); // service
    await screenshot('channel-form');
    await page.fill('input[name=maxMessageSize]', '65536');
    await page.fill('input[name=service]', 'zato.ping');
    await page.click('button[type=submit]');
    await row('web-chan').getByText('listening').waitFor();
    await screenshot('channels');

    const client = await TestClient.connect(`ws://127.0.0.1:${port}/web`);
    await client.createSession({ client_id: 'browser-client', client_name: 'Label printer' });
    await page.click('a:has-text("web-chan")');
    const [first] = (await server.api('GET', '/api/channels/wsx/web-chan/clients')).body;
    const listed = row(first.pubClientId);
    await listed.getByText('browser-client').waitFor();
    await listed.getByText('Label printer').waitFor();
    // The server holding the socket (every server's clients are listed in a cluster).
    assert.equal(first.server, (await server.api('GET', '/api/health')).body.server);
    await listed.getByRole('cell', { name: first.server, exact: true }).waitFor();

    await listed.getByRole('button', { name: 'Invoke' }).click();
    await page.fill('#invoke-request', '{"print": "label-42"}');
    await page.click('form.panel button[type=submit]');
    const rq = await client.next();
    assert.deepEqual(rq.data, { print: 'label-42' });
    client.send({
      meta: { action: 'client-response', id: 'r1', token: client.token, in_reply_to: rq.meta.id },
      data: { printed: true },
    });
    await page.getByTestId('client-response').filter({ hasText: '"printed": true' }).waitFor();
    await screenshot('channel-clients');

    await listed.getByRole('button', { name: 'Disconnect' }).click();
    assert.equal((await client.closed).code, 4005);
    await page.getByText('No clients connected.').waitFor();

    // Edit: the form comes filled in with the stored values; a bad value is refused inline, a good one saved.
    await page.goto(`${server.adminUrl}/#/channels/edit/web-chan`);
    assert.equal(await page.inputValue('input[name=address]'), `ws://127.0.0.1:${port}/web`);
    await page.fill('input[name=pingInterval]', '-1');
    await page.click('button[type=submit]');
    await page.locator('.field.invalid').filter({ hasText: 'Must be at least 0' }).waitFor();
    await page.fill('input[name=pingInterval]', '15');
    await page.click('button[type=submit]');
    await row('web-chan').waitFor();
    assert.equal((await server.api('GET', '/api/channels/wsx/web-chan')).body.pingInterval, 15);
  });

  test('a channel that cannot listen (its port is taken) shows the error in the list', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as AddressInfo).port)),
    );
    try {
      await server.api('POST', '/api/channels/wsx', {
        name: 'web-busy',
        address: `ws://127.0.0.1:${port}/busy`,
        service: 'zato.ping',
      });
      await page.goto(`${server.adminUrl}/#/channels`);
      await row('web-busy').locator('.badge', { hasText: 'error' }).waitFor();
      await row('web-busy')
        .locator('.last-error')
        .filter({ hasText: /EADDRINUSE|in use/i })
        .waitFor();
    } finally {
      blocker.close();
      await server.api('DELETE', '/api/channels/wsx/web-busy');
    }
  });

  test('a conflict the server finds (a name in use) is shown under the field it names', async () => {
    await page.goto(`${server.adminUrl}/#/channels/new`);
    await page.fill('input[name=name]', 'web-chan');
    await page.fill('input[name=address]', `ws://127.0.0.1:${await freePort()}/dup`);
    await page.fill('input[name=service]', 'zato.ping');
    await page.click('button[type=submit]');
    await page
      .locator('.field.invalid')
      .filter({ hasText: /exists/ })
      .waitFor();
    assert.equal(
      (await server.api('GET', '/api/channels/wsx')).body.filter((c: { name: string }) => c.name === 'web-chan').length,
      1,
    );
  });

  test('create an outgoing connection and watch its state follow the remote stopping and starting', async () => {
    const remote = await PlainRemote.start(await freePort());
    await page.goto(`${server.adminUrl}/#/outgoing/new`);
    await page.fill('input[name=name]', 'web-out');
    await page.fill('input[name=address]', remote.url);
    await page.selectOption('select[name=isZato]', 'false');
    await page.fill('input[name="reconnect.initial"]', '0.1');
    await page.fill('input[name="reconnect.max"]', '0.5');
    await page.click('button[type=submit]');
    await row('web-out').locator('.badge', { hasText: 'connected' }).waitFor();
    await remote.kill();
    await row('web-out').locator('.badge', { hasText: 'reconnecting' }).waitFor();
    await row('web-out').locator('.last-error').filter({ hasText: /\S/ }).waitFor();
    await screenshot('outgoing');
    await remote.listen();
    await row('web-out')
      .locator('.badge', { hasText: /^connected$/ })
      .waitFor();
    await remote.kill();
  });

  test('create a security definition: the secret is write-only', async () => {
    await page.goto(`${server.adminUrl}/#/security/new`);
    await page.fill('input[name=name]', 'web-sec');
    await page.selectOption('select[name=type]', 'basic_auth');
    await page.fill('input[name=username]', 'printer');
    await page.fill('input[name=password]', 's3cret-pw');
    await page.click('button[type=submit]');
    await row('web-sec').getByText('printer').waitFor();
    assert.equal(await page.getByText('s3cret-pw').count(), 0);
    await row('web-sec').getByRole('link', { name: 'Edit' }).click();
    assert.equal(await page.inputValue('input[name=password]'), '');
    await screenshot('security');
  });

  test('create a topic, publish to it, browse the message, see a subscription', async () => {
    await page.goto(`${server.adminUrl}/#/pubsub/new`);
    await page.fill('input[name=name]', '/web/orders');
    await page.selectOption('select[name=hasGd]', 'true');
    await page.click('button[type=submit]');
    await row('/web/orders').waitFor();
    await page.click('a:has-text("/web/orders")');
    await page.fill('#publish-data', '{"order": 7}');
    await page.click('form.panel button[type=submit]');
    const published = await page.getByTestId('published').locator('code').textContent();
    assert.match(published ?? '', /^zpsm/);
    await page.locator(`tr[data-row="${published}"]`).getByText('{"order":7}').waitFor();
    await screenshot('topic');

    const subAddress = `ws://127.0.0.1:${await freePort()}/sub`;
    await server.api('POST', '/api/channels/wsx', {
      name: 'web-sub',
      address: subAddress,
      service: 'helpers.web-sockets-gateway',
    });
    const sub = await TestClient.connect(subAddress);
    await sub.createSession({ client_id: 'web-subscriber' });
    await sub.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/web/orders' });
    await page.goto(`${server.adminUrl}/#/pubsub`);
    await page.locator('tr', { hasText: 'web-subscriber' }).waitFor();
    await screenshot('pubsub');
    sub.close();
  });

  test('a subscription at its queue limit shows as suspended, with what it dropped, and since when it is not connected', async () => {
    await server.api('POST', '/api/pubsub/topics', { name: '/web/full', maxDepthGd: 4 });
    const subAddress = `ws://127.0.0.1:${await freePort()}/full`;
    await server.api('POST', '/api/channels/wsx', {
      name: 'web-full',
      address: subAddress,
      service: 'helpers.web-sockets-gateway',
    });
    const sub = await TestClient.connect(subAddress);
    await sub.createSession({ client_id: 'web-gone' });
    const reply = await sub.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/web/full', unsub_on_wsx_close: false });
    const subKey = (reply.data as { sub_key: string }).sub_key;
    sub.ws.terminate();
    await sub.closed;
    // subMaxDepthGd is half of maxDepthGd: 2 stay queued, the other 4 are dropped for it.
    for (let n = 0; n < 6; n++)
      assert.equal(
        (await server.api('POST', `/api/pubsub/topics/${encodeURIComponent('/web/full')}/publish`, { data: { n } })).status,
        201,
      );
    await page.goto(`${server.adminUrl}/#/pubsub`);
    const line = page.locator('tr', { hasText: subKey });
    await line.getByText('suspended').waitFor();
    await line.getByText('not connected since').waitFor();
    assert.deepEqual(await line.locator('td.num, td .num').allTextContents(), ['2', '4']);
  });

  test('invoke a service with a JSON request and see its response', async () => {
    await page.goto(`${server.adminUrl}/#/services`);
    await row('zato.helpers.echo').waitFor();
    await screenshot('services');
    await row('zato.helpers.echo').getByRole('link', { name: 'Invoke' }).click();
    await page.fill('#service-request', '{"hello": "from the browser"}');
    await page.click('form.panel button[type=submit]');
    await page.getByTestId('service-response').filter({ hasText: 'from the browser' }).waitFor();
    await screenshot('service-invoke');
  });

  test('a service file that does not compile is shown with its error on the services page', async () => {
    await mkdir(join(server.dir, 'services'), { recursive: true });
    await writeFile(join(server.dir, 'services', 'broken.ts'), 'export default class { handle( {');
    await page.goto(`${server.adminUrl}/#/services`);
    const panel = page.locator('.deploy-errors');
    await panel.locator('code.source', { hasText: 'broken.ts' }).waitFor();
    assert.ok(((await panel.locator('pre.error').textContent()) ?? '').length > 0, 'the compiler error is shown');
    await screenshot('services-deploy-error');
  });

  test('the Cluster page shows this server as the housekeeper, with its heartbeat age', async () => {
    await page.goto(server.adminUrl);
    await page.getByRole('navigation').getByRole('link', { name: 'Cluster' }).click();
    await page.getByRole('heading', { name: 'Cluster' }).waitFor();
    const { serverId } = (await server.api('GET', '/api/cluster')).body.servers[0];
    const me = row(serverId);
    await me.getByText(server.serverName, { exact: true }).waitFor();
    await me.locator('.badge', { hasText: 'housekeeping' }).waitFor();
    await me.locator('.badge', { hasText: 'this server' }).waitFor();
    await me.getByText(/^\d+(\.\d)? s ago$/).waitFor();
    await page.getByTestId('cluster-housekeeper').getByText(server.serverName).waitFor();
    await screenshot('cluster');
  });

  test('the dashboard shows connections and rates, and logging out ends the session', async () => {
    const client = await TestClient.connect((await server.api('GET', '/api/channels/wsx/web-chan')).body.address);
    await page.goto(`${server.adminUrl}/#/dashboard`);
    await page
      .getByTestId('connections')
      .locator('.value', { hasText: /^[1-9]/ })
      .waitFor();
    await client.createSession();
    // Traffic for a few polls, until the chart has a line of several points.
    const line = page.locator('figure.chart path.line.s-calls');
    for (let i = 0; i < 60 && ((await line.getAttribute('d').catch(() => null)) ?? '').split('L').length < 3; i++) {
      await Promise.all(Array.from({ length: 5 + i }, () => client.invoke({})));
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(((await line.getAttribute('d')) ?? '').split('L').length >= 3, 'the chart draws a line');
    await page.locator('tr[data-row="web-chan"]').waitFor();
    await screenshot('dashboard');
    client.close();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#login-token').waitFor();
    const res = await page.evaluate(async () => (await fetch('/api/channels/wsx')).status);
    assert.equal(res, 401);
  });
});
