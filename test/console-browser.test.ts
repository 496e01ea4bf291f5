// The live console of the web admin in Debian's Chromium (playwright-core) against a real server: the channel page
// loads the client library the admin server serves, connects as a client, invokes a service, subscribes and
// publishes, and lists every frame in and out with the credentials masked; a plain channel too; refused
// credentials are an error, not a reconnect loop. Screenshot: channel-console.png (see test/web-admin.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, loggedInPage } from './helpers/browser.js';
import { createChannel, startTestServer, TEST_TOKEN, waitFor, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const shots = process.env.SWITCHBOARD_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'switchboard-shots-'));
const PASSWORD = 'console-password-never-shown';

let server: TestServer;
let browser: Browser;
let page: Page;

describe('the live console in the web admin, in Chromium', { skip }, () => {
  before(async () => {
    server = await startTestServer();
    const sec = await server.api('POST', '/api/security', {
      name: 'console-user',
      type: 'basic_auth',
      username: 'ada',
      password: PASSWORD,
    });
    assert.equal(sec.status, 201, JSON.stringify(sec.body));
    await createChannel(server, {
      name: 'console-gw',
      service: 'helpers.web-sockets-gateway',
      gatewayServices: ['zato.helpers.*'],
      security: 'console-user',
    });
    await createChannel(server, { name: 'console-plain', protocol: 'plain', service: 'zato.helpers.echo' }, '/plain');
    await server.api('POST', '/api/pubsub/topics', { name: '/console/news' });
    ({ browser, page } = await loggedInPage(server.adminUrl, TEST_TOKEN, { width: 1400, height: 1000 }));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const panel = () => page.getByRole('region', { name: 'Console' });
  const frames = () => panel().getByRole('list', { name: 'Console frames' }).locator('li');

  test('wrong credentials: a clear error and no reconnect loop', async () => {
    await page.goto(`${server.adminUrl}/#/channels/view/console-gw`);
    await panel().locator('input[name=console-username]').fill('ada');
    await panel().locator('input[name=console-secret]').fill('not-the-password');
    await panel().getByRole('button', { name: 'Connect' }).click();
    await panel()
      .getByRole('alert')
      .filter({ hasText: /credentials|403/i })
      .waitFor();
    const attempts = await frames().filter({ hasText: 'create-session' }).count();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await frames().filter({ hasText: 'create-session' }).count(), attempts, 'no new attempt');
    assert.equal(await page.getByText('not-the-password').count(), 0);
  });

  test('connect, invoke through the gateway, subscribe and receive, publish; every frame listed, the secret masked', async () => {
    await page.goto(`${server.adminUrl}/#/channels/view/console-gw`);
    await panel().locator('input[name=console-username]').fill('ada');
    await panel().locator('input[name=console-secret]').fill(PASSWORD);
    await panel().getByRole('button', { name: 'Connect' }).click();
    await panel().getByTestId('console-state').filter({ hasText: 'open' }).waitFor();
    const clients = (await server.api('GET', '/api/channels/wsx/console-gw/clients')).body as Array<{ extClientName: string }>;
    assert.equal(clients.length, 1);
    assert.equal(clients[0]!.extClientName, 'web admin console');

    await panel().locator('input[name=console-service]').fill('zato.helpers.echo');
    await panel().locator('textarea[name=console-request]').fill('{"n": 42}');
    await panel().getByRole('button', { name: 'Invoke' }).click();
    await panel().getByTestId('console-result').filter({ hasText: '"n": 42' }).waitFor();

    await panel().locator('input[name=console-topic]').fill('/console/news');
    await panel().getByRole('button', { name: 'Subscribe' }).click();
    await panel().locator('.console-subs li').filter({ hasText: '/console/news' }).waitFor();
    for (const i of [1, 2, 3])
      await server.api('POST', '/api/pubsub/topics/%2Fconsole%2Fnews/publish', { data: { i }, hasGd: true });
    const received = panel().getByRole('list', { name: 'Received messages' }).locator('li');
    await waitFor(async () => (await received.count()) >= 3, 5000, 'three messages');
    const texts = await received.allTextContents();
    assert.deepEqual(
      texts.map((t) => /"i":(\d)/.exec(t)?.[1]),
      ['1', '2', '3'],
      'in order',
    );
    await panel().locator('textarea[name=console-data]').fill('{"from": "console"}');
    await panel().getByRole('button', { name: 'Publish' }).click();
    await panel()
      .getByTestId('console-result')
      .filter({ hasText: /published zpsm/ })
      .waitFor();

    // Every frame, both ways, with its time and size; what the user typed as a secret never shows.
    await frames().filter({ hasText: 'create-session' }).first().waitFor();
    const listed = await frames().allTextContents();
    assert.ok(listed.some((t) => t.includes('← out') && t.includes('invoke-service')));
    assert.ok(listed.some((t) => t.includes('→ in') && t.includes('zwsx.psrq')));
    assert.ok(
      listed.every((t) => /\d\d:\d\d:\d\d\.\d{3}/.test(t)),
      'timestamps',
    );
    assert.equal(await page.getByText(PASSWORD).count(), 0, 'the secret is masked');
    assert.ok(!listed.some((t) => /zwsxt\.[0-9a-f]{32}/.test(t)), 'no whole session token, neither in replies nor in requests');
    await page.screenshot({ path: join(shots, 'channel-console.png'), fullPage: true });

    await panel().getByRole('button', { name: 'Disconnect' }).click();
    await waitFor(async () => (await server.api('GET', '/api/channels/wsx/console-gw/clients')).body.length === 0, 3000, 'gone');
  });

  test('a plain channel: send JSON, see the echo come back', async () => {
    await page.goto(`${server.adminUrl}/#/channels/view/console-plain`);
    await panel().getByRole('button', { name: 'Connect' }).click();
    await panel().getByTestId('console-state').filter({ hasText: 'open' }).waitFor();
    await panel().locator('textarea[name=console-message]').fill('{"ping": "plain"}');
    await panel().getByRole('button', { name: 'Send' }).click();
    await frames().filter({ hasText: '→ in' }).filter({ hasText: '"ping":"plain"' }).waitFor();
    await frames().filter({ hasText: '← out' }).filter({ hasText: '"ping":"plain"' }).waitFor();
  });
});
