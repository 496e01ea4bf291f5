// Issue 14's channel security fields set live through the web admin's own forms in Debian's Chromium, each checked
// with real WebSocket clients: a rate limit (messages and handshakes) set and cleared, compression turned on and off,
// pub/sub topic patterns set and lifted, and bad values refused with the server's error under the field it names.
// TLS through the forms: test/web-admin-tls-forms.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, loggedInPage } from './helpers/browser.js';
import { createChannel, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';
import { refusedUpgrade } from './helpers/upgrade.js';
import { TestClient } from './helpers/wsx-client.js';

const skip = browserSkipReason();
let server: TestServer;
let browser: Browser;
let page: Page;

const row = (key: string) => page.locator(`tr[data-row="${key}"]`);
/** The form field (label, input, hint, error) holding the input named `name`. */
const field = (name: string) => page.locator('.field', { has: page.locator(`[name="${name}"]`) });
const channel = async (name: string) => (await server.api('GET', `/api/channels/wsx/${name}`)).body as Record<string, unknown>;
/** The stored configuration as JSON, without the live state. */
const config = async (name: string) => JSON.stringify({ ...(await channel(name)), runtime: undefined });

/** Opens the channel's edit form, waits for its stored values, then fills the text fields and picks the selects. */
async function editChannel(name: string, fill: Record<string, string>, select: Record<string, string> = {}): Promise<void> {
  // Through the list: a form left open at the same address would keep what was typed into it.
  await page.goto(`${server.adminUrl}/#/channels`);
  await row(name).waitFor();
  await page.goto(`${server.adminUrl}/#/channels/edit/${name}`);
  await page.locator('input[name=address]').waitFor();
  for (const [key, value] of Object.entries(fill)) await page.fill(`[name="${key}"]`, value);
  for (const [key, value] of Object.entries(select)) await page.selectOption(`select[name="${key}"]`, value);
  await page.click('button[type=submit]');
}

/** Submits as editChannel does and waits for the form to close on the channel list: the server took it. */
async function saveChannel(name: string, fill: Record<string, string>, select: Record<string, string> = {}): Promise<void> {
  await editChannel(name, fill, select);
  await page.waitForURL(/#\/channels$/);
  await row(name).waitFor();
}

/** Opens a WebSocket to `url`: 'open' (closed again at once), or the refused upgrade's status and error code. */
async function upgrade(url: string): Promise<'open' | { status: number; code: string }> {
  const outcome = await refusedUpgrade(url, { localAddress: '127.0.0.1' });
  return outcome === 'open' ? outcome : { status: outcome.status, code: outcome.code };
}

/** The outcome of one call after another (meta.status and meta.code of each reply). */
async function invokes(client: TestClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await client.invoke({});
    out.push(`${reply.meta.status}${reply.meta.code ? ` ${reply.meta.code}` : ''}`);
  }
  return out;
}

describe('web admin: issue 14 channel fields through the forms, in Chromium', { skip }, () => {
  before(async () => {
    server = await startTestServer();
    ({ browser, page } = await loggedInPage(server.adminUrl, TEST_TOKEN));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a message and handshake rate set in the edit form apply live to a real client; cleared, they are gone', async () => {
    const url = await createChannel(server, { name: 'form-rate', service: 'zato.ping' }, '/rate');
    await saveChannel('form-rate', { messageRate: '0.001', messageBurst: '2', handshakeRate: '0.001', handshakeBurst: '2' });
    const set = await channel('form-rate');
    assert.deepEqual([set.messageRate, set.messageBurst, set.handshakeRate, set.handshakeBurst], [0.001, 2, 0.001, 2]);
    // A rate this low never refills during the test: the burst of 2 decides, create-session taking one token.
    const client = await TestClient.connect(url);
    assert.equal((await client.createSession()).meta.status, 200);
    assert.deepEqual(await invokes(client, 2), ['200', '429 rate_limited']);
    assert.equal(client.ws.readyState, WebSocket.OPEN, 'one refusal does not close');
    // The client above took one of the address's 2 handshakes.
    assert.deepEqual([await upgrade(url), await upgrade(url)], ['open', { status: 429, code: 'handshake_rate_limited' }]);

    // The edit form shows the stored limits; emptied, they are saved as null (no limit).
    await page.goto(`${server.adminUrl}/#/channels/edit/form-rate`);
    assert.equal(await page.inputValue('input[name=messageRate]'), '0.001');
    assert.equal(await page.inputValue('input[name=handshakeBurst]'), '2');
    await saveChannel('form-rate', { messageRate: '', messageBurst: '', handshakeRate: '', handshakeBurst: '' });
    const cleared = await channel('form-rate');
    assert.deepEqual(
      [cleared.messageRate, cleared.messageBurst, cleared.handshakeRate, cleared.handshakeBurst],
      [null, null, null, null],
    );
    // Lifted live for the connection opened under the limit too.
    assert.deepEqual(await invokes(client, 5), ['200', '200', '200', '200', '200']);
    for (let i = 0; i < 4; i++) assert.equal(await upgrade(url), 'open');
    client.close();
  });

  test('compression turned on in the form is negotiated with a new client offering permessage-deflate; off, it is not', async () => {
    const url = await createChannel(server, { name: 'form-deflate', service: 'zato.helpers.echo' }, '/deflate');
    /** A new client offering permessage-deflate (ws does by default): the extensions agreed, after one echo. */
    const negotiated = async (): Promise<string> => {
      const client = await TestClient.connect(url, { perMessageDeflate: { clientNoContextTakeover: true } });
      await client.createSession();
      assert.deepEqual((await client.invoke({ text: 'x'.repeat(2000) })).data, { text: 'x'.repeat(2000) });
      client.close();
      return client.ws.extensions;
    };
    assert.equal(await negotiated(), '');

    await saveChannel('form-deflate', {}, { compression: 'true' });
    assert.equal((await channel('form-deflate')).compression, true);
    assert.match(await negotiated(), /^permessage-deflate/);

    await page.goto(`${server.adminUrl}/#/channels/edit/form-deflate`);
    assert.equal(await page.inputValue('select[name=compression]'), 'true', 'the form shows the stored value');
    await saveChannel('form-deflate', {}, { compression: 'false' });
    assert.equal((await channel('form-deflate')).compression, false);
    assert.equal(await negotiated(), '');
  });

  test('topic patterns set in the form refuse a publish outside them with 403 forbidden; emptied, any topic is open again', async () => {
    for (const name of ['/form/orders/1', '/form/invoices/1'])
      assert.equal((await server.api('POST', '/api/pubsub/topics', { name })).status, 201);
    const url = await createChannel(server, { name: 'form-topics', service: 'helpers.web-sockets-gateway' }, '/topics');
    const publish = async (client: TestClient, topic: string) => {
      const reply = await client.gateway('zato.pubsub.pubapi.publish-message', { topic_name: topic, data: 1, has_gd: true });
      return `${reply.meta.status}${reply.meta.code ? ` ${reply.meta.code}` : ''}`;
    };
    const session = async () => {
      const client = await TestClient.connect(url);
      assert.equal((await client.createSession()).meta.status, 200);
      return client;
    };
    const before = await session();
    assert.equal(await publish(before, '/form/invoices/1'), '200', 'no patterns: any topic');
    await page.goto(`${server.adminUrl}/#/channels`);
    await row('form-topics').getByText('⚠ any topic').waitFor();

    await saveChannel('form-topics', { topicPatterns: 'pub=/form/orders/*\nsub=/form/orders/*' });
    assert.deepEqual((await channel('form-topics')).topicPatterns, ['pub=/form/orders/*', 'sub=/form/orders/*']);
    await row('form-topics').getByText('restricted').waitFor();
    // Sessions granted under the old rules end with the change.
    assert.equal((await before.closed).code, 1012);
    const shop = await session();
    assert.equal(await publish(shop, '/form/orders/1'), '200');
    assert.equal(await publish(shop, '/form/invoices/1'), '403 forbidden');
    const invoices = (await server.api('GET', '/api/pubsub/topics/%2Fform%2Finvoices%2F1')).body as { depth: { gd: number } };
    assert.equal(invoices.depth.gd, 1, 'only the publish made before the patterns was written');

    await saveChannel('form-topics', { topicPatterns: '' });
    assert.deepEqual((await channel('form-topics')).topicPatterns, []);
    await row('form-topics').getByText('⚠ any topic').waitFor();
    const open = await session();
    assert.equal(await publish(open, '/form/invoices/1'), '200');
    open.close();
  });

  test('bad values are refused under the field they concern, from the schema or the server, and nothing is saved', async () => {
    await createChannel(server, { name: 'form-bad', service: 'zato.ping', messageRate: 5 }, '/bad');
    const stored = await config('form-bad');
    const refused = async (name: string, message: RegExp | string) => {
      await field(name).and(page.locator('.invalid')).getByRole('alert').filter({ hasText: message }).waitFor();
      assert.match(page.url(), /#\/channels\/edit\/form-bad$/, 'the form stays open');
      assert.equal(await config('form-bad'), stored, 'nothing was saved');
    };
    // Below the schema's bounds: the form says so before sending (the bounds are the API's own, from its OpenAPI).
    for (const rate of ['0', '-1']) {
      await editChannel('form-bad', { messageRate: rate });
      await refused('messageRate', 'Must be at least 0.001');
    }
    await editChannel('form-bad', { messageBurst: '1.5' });
    await refused('messageBurst', 'Must be a whole number');
    // What only the server knows: a burst without its rate, a pattern without pub= or sub=.
    await editChannel('form-bad', { messageRate: '', messageBurst: '10' });
    await refused('messageBurst', 'messageBurst needs messageRate');
    await editChannel('form-bad', { handshakeBurst: '3' });
    await refused('handshakeBurst', 'handshakeBurst needs handshakeRate');
    await editChannel('form-bad', { topicPatterns: '/orders/*' });
    await refused('topicPatterns', /topicPatterns/);
  });
});
