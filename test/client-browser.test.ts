// switchboard/client in Debian's Chromium: an application page on its own origin imports the bundle from the admin
// server (/client/switchboard-client.js, a CORS module load) and, against a real server process: invokes a
// service, answers the server's request, subscribes and receives in order, and goes through a kill -9 and restart
// of the server while it keeps publishing GD messages, missing nothing and handing no message on twice. The html
// example of docs/client.md runs here too, as written (its ports replaced).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import type { Browser, Page } from 'playwright-core';
import type * as Client from '../src/client/index.js';
import { browserSkipReason, launchChromium } from './helpers/browser.js';
import { ServerProcess } from './helpers/server-process.js';
import { freePort, waitFor } from './helpers/server.js';

/** What the page keeps on `window` between evaluations. */
interface PageState {
  sb: typeof Client;
  clients: Client.SwitchboardClient[];
  got: Array<{ msgId: string; data: unknown; count: number }>;
  events: string[];
  acked: string[];
  failures: string[];
  publishing: boolean;
  loop: Promise<void>;
}
type Win = typeof globalThis & PageState;

const skip = browserSkipReason();
const JWT_SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
let tokensIssued = 0;

/** What the application's own back end does: a short-lived JWT for its page (2 s here). */
function issueToken(): Promise<string> {
  tokensIssued++;
  return new SignJWT({ sub: 'page-user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
    .sign(new TextEncoder().encode(JWT_SECRET));
}
let server: ServerProcess;
let app: Server;
let appUrl: string;
let browser: Browser;
let page: Page;

/** The ```html example of docs/client.md, pointed at this test's server (the docs say 17010 and 17011). */
function docsHtmlExample(): string {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const blocks = [...readFileSync(join(root, 'docs', 'client.md'), 'utf8').matchAll(/^```html\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, 'one html example in docs/client.md');
  return blocks[0]![1]!
    .replaceAll('http://127.0.0.1:17010', server.adminUrl)
    .replaceAll('ws://127.0.0.1:17011', new URL(server.channelUrl).origin);
}

/** The application page: it loads the library from the admin server, as any site would. */
function appPage(bundleUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>app</title>
<script type="module">
  import * as sb from ${JSON.stringify(bundleUrl)};
  Object.assign(window, { sb, clients: [], got: [], events: [], acked: [], failures: [] });
  document.title = 'ready';
</script>`;
}

describe('switchboard/client in Chromium', { skip }, () => {
  before(async () => {
    server = await ServerProcess.create();
    await server.start();
    const bundleUrl = `${server.adminUrl}/client/switchboard-client.js`;
    app = createServer((req, res) => {
      if (req.url === '/token') void issueToken().then((jwt) => res.writeHead(200, { 'content-type': 'text/plain' }).end(jwt));
      else if (req.url === '/docs-example')
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>\n${docsHtmlExample()}`);
      else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(appPage(bundleUrl));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(appUrl);
    await page.waitForFunction('document.title === "ready"');
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => app?.close(r));
    await server?.remove();
  });

  test('the admin server serves the bundle to any origin, without auth', async () => {
    const res = await fetch(`${server.adminUrl}/client/switchboard-client.js`, { headers: { origin: 'http://app.example' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const code = await res.text();
    for (const nodeOnly of ['require(', 'node:', 'process.env', 'Buffer.'])
      assert.ok(!code.includes(nodeOnly), `the bundle mentions ${nodeOnly}`);
    assert.equal((await fetch(`${server.adminUrl}/client/other.js`)).status, 404);
  });

  test('the html example of docs/client.md runs in a page as written: it logs the ping', async () => {
    const example = await browser.newPage();
    try {
      const logged = example.waitForEvent('console', { timeout: 20_000 });
      const errors: string[] = [];
      example.on('pageerror', (err) => errors.push(err.message));
      await example.goto(`${appUrl}docs-example`);
      assert.deepEqual(await (await logged).args()[0]?.jsonValue(), { pong: 'zato' });
      assert.deepEqual(errors, []);
    } finally {
      await example.close();
    }
  });

  test('invoke in the page: the response, and a ServerError with the server code', async () => {
    const result = await page.evaluate(async (url) => {
      const w = globalThis as unknown as Win;
      const c = await w.sb.connect(url, { clientId: 'browser-invoke' });
      w.clients.push(c);
      const pong = await c.invoke('zato.ping');
      const err = await c.invoke('demo.not-allowed').catch((e: unknown) => e);
      return { pong, isServerError: err instanceof w.sb.ServerError, code: (err as Client.ClientError).code, state: c.state };
    }, server.channelUrl);
    assert.deepEqual(result, { pong: { pong: 'zato' }, isServerError: true, code: 'service_not_allowed', state: 'open' });
  });

  test("the page answers the server's request (the admin API invokes the browser client)", async () => {
    await page.evaluate(async (url) => {
      const w = globalThis as unknown as Win;
      const c = await w.sb.connect(url, { clientId: 'browser-answers' });
      w.clients.push(c);
      c.onRequest((data) => ({
        fromBrowser: data,
        agent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent.includes('Chrome'),
      }));
    }, server.channelUrl);
    const list = (await server.api('GET', '/api/channels/wsx/demo/clients')).body as Array<{
      pubClientId: string;
      extClientId: string;
    }>;
    const id = list.find((c) => c.extClientId === 'browser-answers')!.pubClientId;
    const res = await server.api('POST', `/api/channels/wsx/demo/clients/${id}/invoke`, { request: { q: 'hi' }, timeout: 5 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { response: { fromBrowser: { q: 'hi' }, agent: true } });
  });

  test('subscribe in the page: every message, in order, once', async () => {
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/browser/order' })).status, 201);
    await page.evaluate(async (url) => {
      const w = globalThis as unknown as Win;
      const c = await w.sb.connect(url, { clientId: 'browser-sub' });
      w.clients.push(c);
      w.got = [];
      await c.subscribe('/browser/order', (m) => void w.got.push({ msgId: m.msgId, data: m.data, count: m.deliveryCount }));
    }, server.channelUrl);
    for (let i = 0; i < 50; i++)
      assert.equal(
        (await server.api('POST', `/api/pubsub/topics/${encodeURIComponent('/browser/order')}/publish`, { data: { i } })).status,
        201,
      );
    await page.waitForFunction(() => (globalThis as unknown as Win).got.length >= 50);
    const got = await page.evaluate(() => (globalThis as unknown as Win).got);
    assert.deepEqual(
      got.map((m) => (m.data as { i: number }).i),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.ok(got.every((m) => m.count === 1));
  });

  test('bad credentials in the page: an AuthError with invalid_credentials, and no reconnect loop', async () => {
    const sec = await server.api('POST', '/api/security', {
      name: 'page-users',
      type: 'basic_auth',
      username: 'u',
      password: 'right',
    });
    assert.equal(sec.status, 201, JSON.stringify(sec.body));
    const address = `ws://127.0.0.1:${await freePort()}/secured`;
    const channel = { name: 'secured', address, service: 'helpers.web-sockets-gateway', security: 'page-users' };
    assert.equal((await server.api('POST', '/api/channels/wsx', channel)).status, 201);
    const result = await page.evaluate(async (url) => {
      const w = globalThis as unknown as Win;
      let attempts = 0;
      const options = { username: 'u', retryFirstConnect: true, reconnect: { initial: 0.01, max: 0.01 } };
      const err = await w.sb
        .connect(url, { ...options, secret: 'wrong', on: { connecting: () => attempts++ } })
        .catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      const good = await w.sb.connect(url, { ...options, secret: 'right' });
      const pong = await good.invoke('zato.ping');
      await good.close();
      return { isAuthError: err instanceof w.sb.AuthError, code: (err as Client.ClientError).code, attempts, pong };
    }, address);
    assert.deepEqual(result, { isAuthError: true, code: 'invalid_credentials', attempts: 1, pong: { pong: 'zato' } });
  });

  test('a token provider in the page keeps the session past each JWT exp; a static token expires with 4004', async () => {
    const sec = await server.api('POST', '/api/security', {
      name: 'page-jwt',
      type: 'jwt',
      secret: JWT_SECRET,
      clockTolerance: 0,
    });
    assert.equal(sec.status, 201, JSON.stringify(sec.body));
    const address = `ws://127.0.0.1:${await freePort()}/jwt`;
    const channel = { name: 'jwt', address, service: 'helpers.web-sockets-gateway', security: 'page-jwt' };
    assert.equal((await server.api('POST', '/api/channels/wsx', channel)).status, 201);
    const before = tokensIssued;
    const result = await page.evaluate(async (url) => {
      const w = globalThis as unknown as Win;
      const events: string[] = [];
      const on = {
        connecting: () => events.push('connecting'),
        open: () => events.push('open'),
        reconnecting: () => events.push('reconnecting'),
      };
      const provided = await w.sb.connect(url, { token: async () => (await fetch('/token')).text(), on });
      await new Promise((r) => setTimeout(r, 5000));
      const pong = await provided.invoke('zato.ping');
      await provided.close();
      const staticToken = await (await fetch('/token')).text();
      const closed = new Promise<{ code: number; error: string | undefined }>((resolve) =>
        w.sb.connect(url, {
          token: staticToken,
          on: { closed: (e) => resolve({ code: e.code, error: (e.error as Client.ClientError | undefined)?.code }) },
        }),
      );
      return { events, pong, closed: await closed };
    }, address);
    assert.deepEqual(result.events, ['connecting', 'open'], 'one connection, never lost');
    assert.deepEqual(result.pong, { pong: 'zato' });
    assert.ok(tokensIssued - before >= 4, `${tokensIssued - before} tokens fetched by the page`);
    assert.deepEqual(result.closed, { code: 4004, error: 'token_expired' });
  });

  test('kill -9 and restart while the page publishes GD messages: nothing acknowledged is missed, nothing handed on twice', async (t) => {
    const topic = '/browser/restart';
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: topic, maxDepthGd: 100_000 })).status, 201);
    await page.evaluate(
      async ({ url, topic }) => {
        const w = globalThis as unknown as Win;
        const options = { reconnect: { initial: 0.1, max: 1 }, timeout: 30_000 };
        const sub = await w.sb.connect(url, { ...options, clientId: 'browser-restart-sub' });
        const pub = await w.sb.connect(url, { ...options, clientId: 'browser-restart-pub' });
        w.clients.push(sub, pub);
        w.got = [];
        sub.on('reconnecting', (e) => w.events.push(`reconnecting ${e.attempt} ${e.code}`));
        sub.on('open', (e) => w.events.push(`open ${e.reconnected}`));
        await sub.subscribe(topic, (m) => void w.got.push({ msgId: m.msgId, data: m.data, count: m.deliveryCount }));
        w.publishing = true;
        w.loop = (async () => {
          for (let i = 0; w.publishing; i++) {
            try {
              w.acked.push(await pub.publish(topic, { i }, { hasGd: true }));
            } catch (err) {
              w.failures.push(String(err));
            }
          }
        })();
      },
      { url: server.channelUrl, topic },
    );
    const acked = () => page.evaluate(() => (globalThis as unknown as Win).acked.length);
    await waitFor(async () => (await acked()) >= 200, 20_000, '200 publications');
    await server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await server.start();
    const before = await acked();
    await waitFor(async () => (await acked()) >= before + 200, 30_000, '200 publications after the restart');
    const result = await page.evaluate(async () => {
      const w = globalThis as unknown as Win;
      w.publishing = false;
      await w.loop;
      const deadline = Date.now() + 30_000;
      const missing = () => w.acked.filter((id) => !w.got.some((m) => m.msgId === id));
      while (missing().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return { acked: w.acked, got: w.got, missing: missing(), failures: w.failures, events: w.events };
    });
    assert.deepEqual(result.missing, [], 'acknowledged messages the page never got');
    assert.deepEqual(result.failures, []);
    const ids = result.got.map((m) => m.msgId);
    assert.equal(new Set(ids).size, ids.length, 'a message handed on twice');
    assert.ok(
      result.events.some((e) => e.startsWith('reconnecting')) && result.events.includes('open true'),
      result.events.join(', '),
    );
    t.diagnostic(`${result.acked.length} acknowledged, ${result.got.length} received; ${result.events.join(', ')}`);
  });
});
