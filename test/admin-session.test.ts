// The web admin's login, session cookie and CSRF protection; the OpenAPI document; the page itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

let server: TestServer;

before(async () => {
  server = await startTestServer({ adminUser: 'ops', adminPassword: 'correct horse battery' });
});
after(() => server.stop());

/** A fetch without the bearer token: what a browser sends. */
async function browserFetch(path: string, init: { method?: string; body?: unknown; cookie?: string; csrf?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  const res = await fetch(server.adminUrl + path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
}

async function login(body: Record<string, string>): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await browserFetch('/api/session', { method: 'POST', body });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrfToken, setCookie };
}

const channel = (name: string) => ({ name, address: 'ws://127.0.0.1:0/csrf', service: 'zato.ping', isActive: false });

describe('web admin session', () => {
  test('login with the admin token sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const { setCookie, csrf } = await login({ token: TEST_TOKEN });
    assert.match(setCookie, /^sb_session=[\w-]{40,};/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.ok(csrf.length >= 40);
  });

  test('login with the user and password from the settings', async () => {
    const { cookie } = await login({ username: 'ops', password: 'correct horse battery' });
    const me = await browserFetch('/api/session', { cookie });
    assert.equal(me.body.user, 'ops');
  });

  test('wrong credentials answer 401 invalid_credentials and set no cookie', async () => {
    for (const body of [
      { token: 'nope' },
      { username: 'ops', password: 'wrong' },
      { username: 'root', password: 'correct horse battery' },
      {},
    ]) {
      const res = await browserFetch('/api/session', { method: 'POST', body });
      assert.equal(res.status, 401, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_credentials');
      assert.equal(res.headers.get('set-cookie'), null);
    }
  });

  test('a malformed login body is 400, an unknown field is named', async () => {
    const res = await browserFetch('/api/session', { method: 'POST', body: { token: TEST_TOKEN, admin: true } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'admin');
  });

  test('the API answers 401 to a request with neither token nor session, and to a forged cookie', async () => {
    assert.equal((await browserFetch('/api/channels/wsx')).status, 401);
    const forged = await browserFetch('/api/channels/wsx', { cookie: 'sb_session=forged-value' });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error.code, 'unauthorized');
  });

  test('with a session cookie, reads need nothing more but every write needs the CSRF token', async () => {
    const { cookie, csrf } = await login({ token: TEST_TOKEN });
    assert.equal((await browserFetch('/api/channels/wsx', { cookie })).status, 200);

    const missing = await browserFetch('/api/channels/wsx', { method: 'POST', body: channel('csrf-a'), cookie });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'csrf_failed');
    const wrong = await browserFetch('/api/channels/wsx', {
      method: 'POST',
      body: channel('csrf-a'),
      cookie,
      csrf: 'x'.repeat(43),
    });
    assert.equal(wrong.status, 403);
    // Nothing was written by the refused requests.
    assert.equal((await server.api('GET', '/api/channels/wsx/csrf-a')).status, 404);

    const created = await browserFetch('/api/channels/wsx', { method: 'POST', body: channel('csrf-a'), cookie, csrf });
    assert.equal(created.status, 201);
    for (const [method, path] of [
      ['PUT', '/api/channels/wsx/csrf-a'],
      ['DELETE', '/api/channels/wsx/csrf-a'],
      ['POST', '/api/services/zato.ping/invoke'],
      ['DELETE', '/api/session'],
    ] as const) {
      const res = await browserFetch(path, { method, cookie, ...(method === 'PUT' ? { body: channel('csrf-a') } : {}) });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    // Another session's CSRF token does not fit this session.
    const other = await login({ token: TEST_TOKEN });
    assert.equal((await browserFetch('/api/channels/wsx/csrf-a', { method: 'DELETE', cookie, csrf: other.csrf })).status, 403);
    assert.equal((await browserFetch('/api/channels/wsx/csrf-a', { method: 'DELETE', cookie, csrf })).status, 200);
  });

  test('logout ends the session: its cookie no longer works', async () => {
    const { cookie, csrf } = await login({ token: TEST_TOKEN });
    const out = await browserFetch('/api/session', { method: 'DELETE', cookie, csrf });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await browserFetch('/api/channels/wsx', { cookie })).status, 401);
  });

  // Issue 10: the throttle refuses wrong credentials only; before, the right token was locked out too (429).
  test('ten failed logins from one address make wrong ones wait (429); the right token still logs in', async () => {
    const throttled = await startTestServer();
    try {
      const post = async (body: unknown) =>
        (
          await fetch(`${throttled.adminUrl}/api/session`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).status;
      for (let i = 0; i < 10; i++) assert.equal(await post({ token: `guess-${i}` }), 401);
      assert.equal(await post({ token: 'guess-10' }), 429);
      assert.equal(await post({ token: TEST_TOKEN }), 200);
    } finally {
      await throttled.stop();
    }
  });

  test('bearer-token callers (CLI, scripts) need no CSRF token', async () => {
    const res = await server.api('POST', '/api/channels/wsx', channel('bearer-chan'));
    assert.equal(res.status, 201);
    assert.equal((await server.api('DELETE', '/api/channels/wsx/bearer-chan')).status, 200);
  });
});

describe('OpenAPI document', () => {
  test('is served without credentials and describes every admin route with the validating schemas', async () => {
    const res = await browserFetch('/api/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, '3.0.3');
    for (const path of [
      '/api/channels/wsx',
      '/api/channels/wsx/{name}',
      '/api/channels/wsx/{name}/clients',
      '/api/channels/wsx/{name}/clients/{pubClientId}/invoke',
      '/api/outgoing/wsx',
      '/api/outgoing/wsx/{name}',
      '/api/security',
      '/api/security/{name}',
      '/api/pubsub/topics',
      '/api/pubsub/topics/{name}/publish',
      '/api/pubsub/topics/{name}/messages',
      '/api/pubsub/subscriptions/{subKey}',
      '/api/services',
      '/api/services/{name}/invoke',
      '/api/session',
      '/api/stats',
    ]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    const channelBody = doc.paths['/api/channels/wsx'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(channelBody.required, ['name', 'address', 'service']);
    assert.equal(channelBody.additionalProperties, false);
    assert.equal(channelBody.properties.maxMessageSize.minimum, 64);
    assert.deepEqual(doc.paths['/api/channels/wsx'].post.tags, ['channels']);
    assert.ok(doc.components.securitySchemes.bearer);
    assert.equal(doc.paths['/'], undefined, 'the web page is not part of the API');
  });
});

describe('the web admin page', () => {
  test('is served at / with a strict content security policy; assets are immutable; unknown assets are 404', async () => {
    const res = await fetch(server.adminUrl + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    // WebSockets only beyond the page's own origin (the console), never fetches or scripts.
    assert.match(res.headers.get('content-security-policy') ?? '', /connect-src 'self' ws: wss:;/);
    const html = await res.text();
    const script = /src="(\/assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    assert.ok(script, html);
    const js = await fetch(server.adminUrl + script);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(server.adminUrl + '/assets/..%2Fpackage.json')).status, 404);
    assert.equal((await fetch(server.adminUrl + '/assets/nope.js')).status, 404);
  });
});

describe('/api/stats', () => {
  test('totals what the dashboard shows', async () => {
    await server.api('POST', '/api/services/zato.ping/invoke', {});
    const stats = (await server.api('GET', '/api/stats')).body;
    for (const key of ['connections', 'messagesIn', 'messagesOut', 'serviceCalls', 'errors', 'pubsubDepth'])
      assert.equal(typeof stats[key], 'number', key);
    assert.ok(stats.serviceCalls >= 1);
    assert.ok(Array.isArray(stats.channels));
  });
});

describe('session store', () => {
  test('sessions expire when idle, and the oldest ends when too many are open', async () => {
    const { SessionStore, MAX_SESSIONS } = await import('../src/admin/sessions.js');
    const store = new SessionStore(1000);
    const a = store.create('admin', 0);
    assert.equal(store.touch(a.id, 500)?.user, 'admin');
    assert.equal(store.touch(a.id, 1400)?.user, 'admin', 'touching restarts the idle timer');
    assert.equal(store.touch(a.id, 2500), undefined, 'idle longer than the limit');
    const first = store.create('admin', 3000);
    for (let i = 1; i < MAX_SESSIONS; i++) store.create('admin', 3000);
    assert.ok(store.touch(first.id, 3001));
    store.create('admin', 3001);
    assert.equal(store.touch(first.id, 3001), undefined, 'the oldest session made room');
  });
});

describe('the web admin page when it was not built', () => {
  test('answers 503 with how to build it, and asset requests are 404', async () => {
    const Fastify = (await import('fastify')).default;
    const { webUiRoutes } = await import('../src/admin/web-ui.js');
    const app = Fastify();
    webUiRoutes(app, '/nonexistent/web');
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 503);
    assert.match(page.body, /npm run setup/);
    assert.equal((await app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode, 404);
    await app.close();
  });
});
