// Issue 10, the admin port: deny by default however the path is spelt, CSRF decided the same way, the Host check,
// one failure budget for every kind of credential, the token rules at start-up, timeouts and size limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRoutes } from '../src/admin/admin-server.js';
import { addressKey, FailureThrottle, MAX_TRACKED_ADDRESSES } from '../src/admin/throttle.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';
import { dropTestDb, startTestServer, TEST_TOKEN, testDb, testDbEnv, type TestServer } from './helpers/server.js';

type Json = Record<string, unknown>;
interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** One request with the path exactly as given (fetch would normalise `..`, `.` and drop `#`). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...headers,
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const jsonOf = (res: RawResponse): any => {
  try {
    return JSON.parse(res.text);
  } catch {
    return undefined;
  }
};

/** Runs `check` over every case, `width` at a time, and fails once listing every failing case. */
async function forEach<T>(cases: readonly T[], check: (c: T) => Promise<void>, width = 8): Promise<void> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      await check(c).catch((err: unknown) => failures.push(err instanceof Error ? err.message.split('\n')[0]! : String(err)));
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${cases.length} cases failed:\n  ${failures.slice(0, 40).join('\n  ')}`,
  );
}

// -------------------------------------------------------------------------------------------------------------
// Fixtures every route can be called on; the "written?" snapshot compares them before and after.
const TOPIC = '/hardening/fx';
const enc = encodeURIComponent;
const CHANNEL = { name: 'fx', address: 'ws://127.0.0.1:1/fx', service: 'zato.ping', isActive: false };
const OUTGOING = { name: 'fx', address: 'ws://127.0.0.1:1/fx', isActive: false };
const SECURITY = { name: 'fx', type: 'apikey', secret: 'fx-secret' };

/** A concrete path for a route pattern: every parameter names a fixture. */
function concrete(url: string): string {
  return url
    .replace('/api/pubsub/topics/:name', `/api/pubsub/topics/${enc(TOPIC)}`)
    .replace(':name', 'fx')
    .replace(':pubClientId', 'nobody')
    .replace(':subKey', 'zpsk.none')
    .replace(':file', 'app.js');
}

/** A body that would change something if it got through, for the route's write methods. */
function bodyFor(url: string): Json {
  if (url.endsWith('/invoke')) return { request: {} };
  if (url.endsWith('/publish')) return { data: 'should-not-be-stored' };
  if (url.startsWith('/api/channels/wsx')) return { ...CHANNEL, name: 'evil', address: 'ws://127.0.0.1:1/evil' };
  if (url.startsWith('/api/outgoing/wsx')) return { ...OUTGOING, name: 'evil' };
  if (url.startsWith('/api/security')) return { ...SECURITY, name: 'evil' };
  if (url.startsWith('/api/pubsub/topics')) return { name: '/evil' };
  if (url.startsWith('/api/session')) return { token: TEST_TOKEN };
  return {};
}

const percent = (c: string) => `%${c.charCodeAt(0).toString(16)}`;

/**
 * The same route, spelt every way a router or proxy might read differently from a string check: encoded
 * letters (one, all), encoded and doubled slashes, dot segments (plain and encoded), case, `;` parameters,
 * `?` and `#` tricks, trailing characters, and public routes used as a prefix.
 */
function spellings(path: string): string[] {
  const rest = path.slice('/api'.length); // `/channels/wsx/fx`
  const encodeLetter = (s: string, index: number) => s.slice(0, index) + percent(s[index]!) + s.slice(index + 1);
  const secondSegment = path.indexOf('/', 1) + 1;
  return [
    path,
    encodeLetter(path, 1), // %61pi
    encodeLetter(path, 3), // ap%69
    encodeLetter(path, secondSegment),
    path.replace(/[a-z]/g, (c) => percent(c)),
    path.replace(/[a-z]/g, (c) => percent(c).toUpperCase()),
    `/api${rest.replace(/\//g, '%2F')}`,
    `/api${rest.replace(/\//g, '%2f')}`,
    `/${path}`,
    `/api/${rest}`,
    path.replace(/\//g, '//'),
    `${path}/`,
    path.toUpperCase(),
    `/API${rest}`,
    `${path};x=1`,
    `/api;x=1${rest}`,
    `${path}?/api/health`,
    `${path}?x=/api/session#/api/health`,
    `${path}#/api/health`,
    `/api/../api${rest}`,
    `/api/./${rest.slice(1)}`,
    `/api/%2e%2e/api${rest}`,
    `/api/%2E/${rest.slice(1)}`,
    `/api/health/..${rest}`,
    `/api/health/%2e%2e${rest}`,
    `/assets/..%2f..${path}`,
    `/metrics/..${path}`,
    `${path}%00`,
    `${path}%20`,
    `${path}\\`,
    `/api\\${rest.slice(1)}`,
  ];
}

const EVERY_METHOD = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const WRITE_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH'];
// The only routes anyone may call: a route added without auth must be listed here deliberately, or this fails.
const EXPECTED_PUBLIC = [
  'GET /',
  'HEAD /',
  'GET /api/health',
  'HEAD /api/health',
  'GET /api/openapi.json',
  'HEAD /api/openapi.json',
  'POST /api/session',
  'GET /assets/:file',
  'HEAD /assets/:file',
  'GET /client/:file',
  'HEAD /client/:file',
  'GET /metrics',
  'HEAD /metrics',
];

let server: TestServer;

/** The methods of `methods` that are not a public route on `url` (POST /api/session is the login). */
const privateMethods = (url: string, methods: readonly string[]) =>
  methods.filter((m) => !EXPECTED_PUBLIC.includes(`${m} ${url}`));

/** Everything a refused write could have changed. */
async function snapshot(): Promise<string> {
  const parts = await Promise.all(
    [
      '/api/channels/wsx',
      '/api/outgoing/wsx',
      '/api/security',
      '/api/pubsub/topics',
      '/api/pubsub/subscriptions',
      `/api/pubsub/topics/${enc(TOPIC)}/messages`,
    ].map(async (path) => {
      const res = await server.api('GET', path);
      // Live state (runtime, depth) may change by itself; configuration and stored messages may not.
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(strip)
          : v && typeof v === 'object'
            ? { ...(v as Json), runtime: undefined, depth: undefined }
            : v;
      return JSON.stringify(strip(res.body));
    }),
  );
  return parts.join('\n');
}

async function login(base: string): Promise<{ cookie: string; csrf: string }> {
  const res = await raw(base, 'POST', '/api/session', {}, JSON.stringify({ token: TEST_TOKEN }));
  assert.equal(res.status, 200, res.text);
  const setCookie = String(res.headers['set-cookie'] ?? '');
  return { cookie: setCookie.split(';')[0]!, csrf: jsonOf(res).csrfToken as string };
}

/** One object of each kind, so that every route with a name in its path has something to find. */
async function createFixtures(target: TestServer): Promise<void> {
  for (const [path, body] of [
    ['/api/channels/wsx', CHANNEL],
    ['/api/outgoing/wsx', OUTGOING],
    ['/api/security', SECURITY],
    ['/api/pubsub/topics', { name: TOPIC }],
  ] as const) {
    const res = await target.api('POST', path, body);
    assert.equal(res.status, 201, `fixture ${path}: ${JSON.stringify(res.body)}`);
  }
}

before(async () => {
  // Requests without credentials do not count as failures, so the default budget holds for the whole table.
  server = await startTestServer();
  await createFixtures(server);
});
after(async () => {
  agent.destroy();
  await server.stop();
});

describe('admin auth: decided on the matched route, however the path is spelt', () => {
  test('only the routes declared public are public (a new route without auth fails here)', () => {
    const routes = adminRoutes(server.admin);
    assert.ok(routes.length > 40, `only ${routes.length} routes collected`);
    const publicOnes = routes
      .filter((r) => r.public)
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    assert.deepEqual(publicOnes, [...EXPECTED_PUBLIC].sort());
  });

  test('the OpenAPI document says which operations need no credentials', async () => {
    const doc = jsonOf(await raw(server.adminUrl, 'GET', '/api/openapi.json'));
    assert.deepEqual(doc.paths['/api/session'].post.security, []);
    assert.deepEqual(doc.paths['/api/health'].get.security, []);
    assert.equal(doc.paths['/api/session'].get.security, undefined, 'GET /api/session needs credentials (the default)');
    assert.equal(doc.paths['/api/channels/wsx'].post.security, undefined);
  });

  test('every other route, spelt every way, with every method and no credentials: 401, and nothing written', async () => {
    const before = await snapshot();
    const paths = [
      ...new Set(
        adminRoutes(server.admin)
          .filter((r) => !r.public)
          .map((r) => r.url),
      ),
    ];
    const cases = paths.flatMap((url) =>
      spellings(concrete(url)).flatMap((path) => privateMethods(url, EVERY_METHOD).map((method) => ({ url, path, method }))),
    );
    await forEach(cases, async ({ url, path, method }) => {
      const body = WRITE_METHODS.includes(method) ? JSON.stringify(bodyFor(url)) : undefined;
      const res = await raw(server.adminUrl, method, path, {}, body);
      assert.equal(res.status, 401, `${method} ${path} answered ${res.status} ${res.text.slice(0, 120)}`);
      if (method !== 'HEAD')
        assert.equal(jsonOf(res)?.error?.code, 'unauthorized', `${method} ${path}: ${res.text.slice(0, 120)}`);
    });
    assert.equal(await snapshot(), before, 'a request without credentials changed something');
  });

  test('the issue’s example: GET /%61pi/channels/wsx without a token is 401 and lists nothing', async () => {
    const res = await raw(server.adminUrl, 'GET', '/%61pi/channels/wsx');
    assert.equal(res.status, 401);
    assert.doesNotMatch(res.text, /ws:\/\/127/);
  });

  test('a session cookie without the CSRF token cannot write through any spelling of any route (403, nothing written)', async () => {
    const { cookie } = await login(server.adminUrl);
    const before = await snapshot();
    const paths = [
      ...new Set(
        adminRoutes(server.admin)
          .filter((r) => !r.public)
          .map((r) => r.url),
      ),
    ];
    const cases = paths.flatMap((url) =>
      spellings(concrete(url)).flatMap((path) => privateMethods(url, WRITE_METHODS).map((method) => ({ url, path, method }))),
    );
    await forEach(cases, async ({ url, path, method }) => {
      const res = await raw(server.adminUrl, method, path, { cookie }, JSON.stringify(bodyFor(url)));
      assert.equal(res.status, 403, `${method} ${path} answered ${res.status} ${res.text.slice(0, 120)}`);
      assert.equal(jsonOf(res)?.error?.code, 'csrf_failed', `${method} ${path}`);
    });
    assert.equal(await snapshot(), before, 'a cookie-authenticated write without CSRF changed something');
    // The session itself still works for reads, and with the CSRF token for writes.
    assert.equal((await raw(server.adminUrl, 'GET', '/%61pi/channels/wsx', { cookie })).status, 200);
  });

  test('an unknown route answers 401 without credentials (nothing about it leaks) and 404 with them', async () => {
    for (const path of ['/nope', '/api/nope', '/api/channels/wsx/fx/nope', '/.env', '/api/health/x']) {
      const res = await raw(server.adminUrl, 'GET', path);
      assert.equal(res.status, 401, path);
      assert.doesNotMatch(res.text, /No such endpoint/, path);
      assert.equal((await server.api('GET', path)).status, 404, path);
    }
  });

  test('public routes stay public under their other spellings, and carry no data', async () => {
    assert.equal((await raw(server.adminUrl, 'GET', '/%61pi/health')).status, 200);
    assert.equal((await raw(server.adminUrl, 'GET', '/api/openapi.json')).status, 200);
    assert.equal((await raw(server.adminUrl, 'HEAD', '/')).status, 200);
  });

  test('a URL that cannot be decoded is 400 in the API’s error shape', async () => {
    const res = await raw(server.adminUrl, 'GET', '/api/%zz');
    assert.equal(res.status, 400);
    assert.equal(jsonOf(res)?.error?.code, 'bad_request');
  });
});

describe('admin Host check (DNS rebinding)', () => {
  test('a foreign Host is refused with 421 host_not_allowed on every route, even with the right token', async () => {
    for (const host of [
      'evil.example',
      'evil.example:17010',
      'rebind.attacker.test',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      '[::2]',
      'evil..',
      'localhost@evil.example',
      '127.0.0.1:80:80',
    ]) {
      for (const path of ['/api/health', '/api/channels/wsx', '/metrics', '/']) {
        const res = await raw(server.adminUrl, 'GET', path, { host, authorization: `Bearer ${TEST_TOKEN}` });
        assert.equal(res.status, 421, `Host ${host} ${path}: ${res.status}`);
        assert.equal(jsonOf(res)?.error?.code, 'host_not_allowed', `Host ${host} ${path}`);
      }
    }
    const login = await raw(
      server.adminUrl,
      'POST',
      '/api/session',
      { host: 'evil.example' },
      JSON.stringify({ token: TEST_TOKEN }),
    );
    assert.equal(login.status, 421);
    assert.equal(login.headers['set-cookie'], undefined);
  });

  test('the admin’s own address and loopback names are answered, with any port and in any case', async () => {
    const port = new URL(server.adminUrl).port;
    for (const host of [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      `localhost:${port}`,
      'LOCALHOST',
      'localhost.',
      `[::1]:${port}`,
      '[::1]',
    ]) {
      const res = await raw(server.adminUrl, 'GET', '/api/channels/wsx', { host, authorization: `Bearer ${TEST_TOKEN}` });
      assert.equal(res.status, 200, `Host ${host}`);
    }
  });

  test('the Authorization scheme is case-insensitive (RFC 9110); another scheme or a bare token is 401', async () => {
    const host = new URL(server.adminUrl).host;
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await raw(server.adminUrl, 'GET', '/api/channels/wsx', { host, authorization: `${scheme} ${TEST_TOKEN}` });
      assert.equal(res.status, 200, scheme);
    }
    for (const authorization of [`Basic ${TEST_TOKEN}`, TEST_TOKEN, `Bearer${TEST_TOKEN}`, 'Bearer ']) {
      const res = await raw(server.adminUrl, 'GET', '/api/channels/wsx', { host, authorization });
      assert.equal(res.status, 401, authorization);
    }
  });

  test('an HTTP/1.0 request without a Host header is refused', async () => {
    const port = Number(new URL(server.adminUrl).port);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /api/health HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.[01] 421 /);
  });

  test('adminAllowedHosts adds names (a reverse proxy), and `*` allows any', async () => {
    const proxied = await startTestServer({ adminAllowedHosts: ['admin.example.com', 'proxy.internal:8443'] });
    const open = await startTestServer({ adminAllowedHosts: ['*'] });
    try {
      const get = (s: TestServer, host: string) => raw(s.adminUrl, 'GET', '/api/health', { host });
      assert.equal((await get(proxied, 'admin.example.com')).status, 200);
      assert.equal((await get(proxied, 'Admin.Example.Com:443')).status, 200);
      assert.equal((await get(proxied, 'proxy.internal')).status, 200);
      assert.equal((await get(proxied, 'example.com')).status, 421);
      assert.equal((await get(proxied, '127.0.0.1')).status, 200);
      assert.equal((await get(open, 'anything.example')).status, 200);
    } finally {
      await proxied.stop();
      await open.stop();
    }
  });

  test('SWITCHBOARD_ADMIN_ALLOWED_HOSTS is read comma-separated', async () => {
    const { loadSettings } = await import('../src/server/settings.js');
    const settings = loadSettings({}, { SWITCHBOARD_ADMIN_ALLOWED_HOSTS: ' a.example, b.example:8080 ,,' }, tmpdir());
    assert.deepEqual(settings.adminAllowedHosts, ['a.example', 'b.example:8080']);
    assert.deepEqual(loadSettings({}, {}, tmpdir()).adminAllowedHosts, []);
    // The other admin settings: defaults, and clear refusals of nonsense.
    const defaults = loadSettings({}, {}, tmpdir());
    assert.deepEqual(
      [defaults.adminHeadersTimeoutMs, defaults.adminRequestTimeoutMs, defaults.adminBodyLimit, defaults.adminAuthFailureLimit],
      [10_000, 30_000, 1024 * 1024, 10],
    );
    assert.throws(
      () => loadSettings({}, { SWITCHBOARD_ADMIN_HEADERS_TIMEOUT_MS: 'soon' }, tmpdir()),
      /adminHeadersTimeoutMs must be a whole number/,
    );
    assert.throws(
      () => loadSettings({}, { SWITCHBOARD_ADMIN_HEADERS_TIMEOUT_MS: '60000' }, tmpdir()),
      /must not exceed adminRequestTimeoutMs/,
    );
    assert.throws(
      () => loadSettings({}, { SWITCHBOARD_ADMIN_BODY_LIMIT: '10' }, tmpdir()),
      /adminBodyLimit must be a whole number from 1024 /,
    );
    assert.throws(
      () => loadSettings({ adminAllowedHosts: [1] as unknown as string[] }, {}, tmpdir()),
      /adminAllowedHosts must be a list/,
    );
    assert.throws(() => loadSettings({ adminToken: 1234 as unknown as string }, {}, tmpdir()), /adminToken must be a string/);
  });
});

describe('admin throttling: one failure budget per address, never against the right credential', () => {
  test('wrong bearer tokens are throttled after ten (429 with Retry-After); the right token still works', async () => {
    const s = await startTestServer();
    try {
      const get = (token: string) => raw(s.adminUrl, 'GET', '/api/channels/wsx', { authorization: `Bearer ${token}` });
      for (let i = 0; i < 10; i++) assert.equal((await get(`wrong-token-${i}`)).status, 401, `attempt ${i}`);
      for (let i = 0; i < 50; i++) {
        const res = await get(`wrong-token-more-${i}`);
        assert.equal(res.status, 429, `attempt ${10 + i}`);
        assert.equal(jsonOf(res)?.error?.code, 'too_many_attempts');
        assert.equal(res.headers['retry-after'], '60');
      }
      assert.equal((await get(TEST_TOKEN)).status, 200, 'the right token is never locked out');
      assert.equal(
        (await raw(s.adminUrl, 'POST', '/api/session', {}, JSON.stringify({ token: TEST_TOKEN }))).status,
        200,
        'nor the right login',
      );
      assert.equal(
        (await raw(s.adminUrl, 'POST', '/api/session', {}, JSON.stringify({ token: 'wrong' }))).status,
        429,
        'a wrong login waits too',
      );
      // Wrong-scheme headers and forged session cookies are wrong credentials as well.
      assert.equal(
        (
          await raw(s.adminUrl, 'GET', '/api/stats', {
            authorization: `Basic ${Buffer.from(`admin:${TEST_TOKEN}`).toString('base64')}`,
          })
        ).status,
        429,
      );
      assert.equal((await raw(s.adminUrl, 'GET', '/api/stats', { cookie: 'sb_session=forged' })).status, 429);
      // A request with no credentials at all is not a guess: it is told what is missing.
      assert.equal((await raw(s.adminUrl, 'GET', '/api/stats')).status, 401);
    } finally {
      await s.stop();
    }
  });

  test('logins, bearer tokens and session cookies share one budget', async () => {
    const s = await startTestServer();
    try {
      for (let i = 0; i < 4; i++)
        assert.equal((await raw(s.adminUrl, 'POST', '/api/session', {}, JSON.stringify({ token: `guess-${i}` }))).status, 401);
      for (let i = 0; i < 3; i++)
        assert.equal((await raw(s.adminUrl, 'GET', '/api/security', { authorization: `Bearer guess-${i}` })).status, 401);
      for (let i = 0; i < 3; i++)
        assert.equal((await raw(s.adminUrl, 'GET', '/api/security', { cookie: `sb_session=guess-${i}` })).status, 401);
      assert.equal((await raw(s.adminUrl, 'GET', '/api/security', { authorization: 'Bearer one-more' })).status, 429);
      const { cookie } = await login(s.adminUrl);
      assert.equal((await raw(s.adminUrl, 'GET', '/api/security', { cookie })).status, 200, 'a real session is not throttled');
    } finally {
      await s.stop();
    }
  });

  test('the failure tracker forgets addresses: its size stays bounded', () => {
    const throttle = new FailureThrottle(10);
    for (let i = 0; i < MAX_TRACKED_ADDRESSES + 500; i++) throttle.failed(`10.0.${i >> 8}.${i & 255}`, 1000);
    assert.ok(throttle.size <= MAX_TRACKED_ADDRESSES, `${throttle.size} addresses kept`);
    throttle.failed('192.0.2.1', 1000 + 61_000);
    assert.equal(throttle.size, 1, 'expired addresses are forgotten first');
    assert.equal(throttle.blocked('192.0.2.1', 1000 + 61_000), false);
  });

  test('IPv6 addresses are counted per /64 (one host holds the whole network); IPv4-mapped ones as IPv4', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('127.0.0.1'), '127.0.0.1');
    const throttle = new FailureThrottle(3);
    for (let i = 0; i < 3; i++) throttle.failed(`2001:db8:1:2::${i.toString(16)}`);
    assert.equal(throttle.blocked('2001:db8:1:2:dead:beef:0:1'), true, 'another address of the same /64');
    assert.equal(throttle.blocked('2001:db8:1:3::1'), false, 'another /64');
  });
});

describe('admin token rules at start-up', () => {
  test('a configured token shorter than 24 characters refuses to start, with a clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-token-'));
    try {
      for (const adminToken of ['x', 'test-token', 'a'.repeat(23)]) {
        await assert.rejects(
          startServer(
            { dataDir: dir, servicesDir: join(dir, 'services'), adminPort: 0, adminToken, demo: false, ...testDb(dir) },
            silentLogger(),
          ),
          /admin token .* has \d+ characters; at least 24 are required/,
          adminToken,
        );
      }
      // A short token in the token file is refused the same way.
      await writeFile(join(dir, 'admin-token'), 'short\n');
      await assert.rejects(
        startServer(
          { dataDir: dir, servicesDir: join(dir, 'services'), adminPort: 0, demo: false, ...testDb(dir) },
          silentLogger(),
        ),
        /admin-token has 5 characters/,
      );
      const ok = await startServer(
        {
          dataDir: dir,
          servicesDir: join(dir, 'services'),
          adminPort: 0,
          adminToken: 'a'.repeat(24),
          demo: false,
          ...testDb(dir),
        },
        silentLogger(),
      );
      await ok.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropTestDb(dir);
    }
  });

  test('a generated token is long, stored with mode 0600, and works', async () => {
    const s = await startTestServer({ adminToken: undefined });
    try {
      assert.equal(s.adminTokenGenerated, true);
      assert.ok(s.adminToken.length >= 24);
      assert.equal((await stat(s.adminTokenFile)).mode & 0o777, 0o600);
      assert.equal((await raw(s.adminUrl, 'GET', '/api/stats', { authorization: `Bearer ${s.adminToken}` })).status, 200);
    } finally {
      await s.stop();
    }
  });

  /** Runs `npm start`'s entry point until it has printed its welcome, and returns what it printed. */
  async function welcome(preload?: string): Promise<{ out: string; token: string; file: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-main-'));
    const args = [
      ...(preload ? ['--import', `data:text/javascript,${encodeURIComponent(preload)}`] : []),
      join(process.cwd(), 'dist/src/server/main.js'),
    ];
    const env = {
      PATH: process.env.PATH ?? '',
      SWITCHBOARD_DATA_DIR: join(dir, 'data'),
      SWITCHBOARD_SERVICES_DIR: join(dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: '0',
      SWITCHBOARD_DEMO: '0',
      SWITCHBOARD_LOG_LEVEL: 'silent',
      ...testDbEnv(dir),
    };
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/Admin token/.test(out) && out.endsWith('\n\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`main exited with ${code}: ${out}`)));
      });
      const file = join(dir, 'data', 'admin-token');
      const { readFile } = await import('node:fs/promises');
      return { out, token: (await readFile(file, 'utf8')).trim(), file };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      await rm(dir, { recursive: true, force: true });
      await dropTestDb(dir);
    }
  }

  test('npm start prints where the generated token is, and the token itself only to a terminal', async () => {
    const piped = await welcome();
    assert.match(piped.out, new RegExp(`Admin token generated into ${piped.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(!piped.out.includes(piped.token), 'the token was printed to a pipe');
    const tty = await welcome('process.stdout.isTTY = true;');
    assert.ok(tty.out.includes(tty.token), 'the token was not printed to the terminal');
  });
});

/** Sends `text` on a raw socket and resolves with everything the server answered until it closed. */
function rawExchange(base: string, text: string, giveUpMs: number): Promise<{ answer: string; closed: boolean }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closed: false });
    }, giveUpMs);
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closed: true });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('admin HTTP timeouts and size limits', () => {
  test('slow headers, a slow body and a silent connection are answered 408 and closed (adminHeadersTimeoutMs)', async () => {
    const s = await startTestServer({ adminHeadersTimeoutMs: 300, adminRequestTimeoutMs: 600 });
    try {
      for (const partial of [
        'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        'GET /api/hea',
        `POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"tok`,
      ]) {
        const { answer, closed } = await rawExchange(s.adminUrl, partial, 8000);
        assert.ok(closed, `not closed: ${JSON.stringify(partial)}`);
        assert.match(answer, /^HTTP\/1\.1 408 /, JSON.stringify(partial));
        assert.match(answer, /"code":"request_timeout"/);
      }
      const silent = await rawExchange(s.adminUrl, '', 8000);
      assert.ok(silent.closed, 'a connection that sends nothing is kept open');
    } finally {
      await s.stop();
    }
  });

  test('at the default settings, a partial request head is answered 408 within about 10 s', { timeout: 30_000 }, async () => {
    const { answer, closed } = await rawExchange(
      server.adminUrl,
      'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ',
      15_000,
    );
    assert.ok(closed, 'the connection was still open after 15 s');
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  test('a request head over 16 KiB is answered 431 headers_too_large in the error shape', async () => {
    const { answer, closed } = await rawExchange(
      server.adminUrl,
      `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      8000,
    );
    assert.ok(closed);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.match(answer, /"code":"headers_too_large"/);
  });

  test('a body over 1 MiB is 413 body_too_large and stores nothing; a body that claims to be larger too', async () => {
    const before = await snapshot();
    const big = JSON.stringify({ data: 'x'.repeat(1024 * 1024) });
    const res = await raw(
      server.adminUrl,
      'POST',
      `/api/pubsub/topics/${enc(TOPIC)}/publish`,
      { authorization: `Bearer ${TEST_TOKEN}` },
      big,
    );
    assert.equal(res.status, 413, res.text.slice(0, 200));
    assert.equal(jsonOf(res)?.error?.code, 'body_too_large');
    assert.equal(await snapshot(), before);
    const { answer } = await rawExchange(
      server.adminUrl,
      `POST /api/pubsub/topics/${enc(TOPIC)}/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n{"data":"`,
      8000,
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":"body_too_large"/);
  });

  test('adminBodyLimit changes the limit', async () => {
    const s = await startTestServer({ adminBodyLimit: 2048 });
    try {
      const res = await s.api('POST', '/api/services/zato.ping/invoke', { request: 'x'.repeat(4096) });
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'body_too_large');
    } finally {
      await s.stop();
    }
  });
});

describe('admin API: wrong-typed and hostile bodies are 400, never 500', () => {
  let hostile: TestServer;
  before(async () => {
    hostile = await startTestServer();
    await createFixtures(hostile);
  });
  after(() => hostile.stop());
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  test('every route with a body, every field with the wrong type, deep nesting and huge strings', async () => {
    const writes = adminRoutes(hostile.admin).filter((r) => !r.public && ['POST', 'PUT'].includes(r.method));
    const cases: Array<{ method: string; path: string; body: string; what: string }> = [];
    for (const r of writes) {
      const path = concrete(r.url);
      const valid = bodyFor(r.url);
      const whole = [
        '[]',
        '"text"',
        '123',
        'null',
        'true',
        '{"toString":1}',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        deep(10_000),
        deepObject(10_000),
        deep(101),
      ];
      for (const body of whole) cases.push({ method: r.method, path, body, what: `body ${body.slice(0, 30)}` });
      for (const field of Object.keys(valid)) {
        for (const wrong of [
          { toString: 1 },
          [{ toString: 1 }],
          12,
          null,
          'x'.repeat(200_000),
          JSON.parse(deep(200)) as unknown,
        ]) {
          cases.push({
            method: r.method,
            path,
            body: JSON.stringify({ ...valid, [field]: wrong }),
            what: `${field}=${JSON.stringify(wrong).slice(0, 30)}`,
          });
        }
      }
    }
    const accepted: string[] = [];
    await forEach(
      cases,
      async ({ method, path, body, what }) => {
        const res = await raw(hostile.adminUrl, method, path, { authorization: `Bearer ${TEST_TOKEN}` }, body);
        assert.ok(res.status < 500, `${method} ${path} ${what}: ${res.status} ${res.text.slice(0, 160)}`);
        if (res.status >= 400)
          assert.equal(
            typeof jsonOf(res)?.error?.code,
            'string',
            `${method} ${path} ${what}: not the error shape: ${res.text.slice(0, 160)}`,
          );
        // Invoke and publish take any JSON as `request` / `data`; every other wrong value must be refused.
        else if (!/^(request|data)=/.test(what)) accepted.push(`${method} ${path} ${what}: ${res.status}`);
      },
      4,
    );
    assert.deepEqual(accepted, []);
  });

  test('a body nested deeper than 128 levels is 400 invalid_json', async () => {
    const res = await raw(
      hostile.adminUrl,
      'POST',
      '/api/services/zato.ping/invoke',
      { authorization: `Bearer ${TEST_TOKEN}` },
      `{"request":${deep(100_000)}}`,
    );
    assert.equal(res.status, 400);
    assert.equal(jsonOf(res)?.error?.code, 'invalid_json');
    const fine = await raw(
      hostile.adminUrl,
      'POST',
      '/api/services/zato.ping/invoke',
      { authorization: `Bearer ${TEST_TOKEN}` },
      `{"request":${deep(50)}}`,
    );
    assert.equal(fine.status, 200, fine.text);
  });

  test('wrong-typed query strings and oversized parameters are answered, never 500 (a huge limit is clamped)', async () => {
    const messages = `/api/pubsub/topics/${enc(TOPIC)}/messages`;
    for (const path of [
      `${messages}?after[]=1`,
      `${messages}?after=1&after=2`,
      `${messages}?limit=-1`,
      `${messages}?limit=${'9'.repeat(400)}`,
      `${messages}?__proto__=1`,
      `/api/channels/wsx/${'n'.repeat(5000)}`,
      `/api/security/${enc('\u0000')}`,
    ]) {
      const res = await raw(server.adminUrl, 'GET', path, { authorization: `Bearer ${TEST_TOKEN}` });
      assert.ok(res.status < 500, `${path.slice(0, 80)}: ${res.status} ${res.text.slice(0, 160)}`);
      if (res.status >= 400) assert.equal(typeof jsonOf(res)?.error?.code, 'string', path.slice(0, 80));
    }
  });
});
