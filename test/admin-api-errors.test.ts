/**
 * The admin API's error contract, route by route: 401 without or with a wrong token, 400 naming the field,
 * 404 with a resource-specific code, 409 for conflicts. Every assertion message names the route it is about.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

type Json = Record<string, unknown>;
interface ApiResult {
  status: number;
  body: any;
}

const enc = encodeURIComponent;
const TOPIC_A = '/errors/a';
const TOPIC_B = '/errors/b';
const TOPIC_OFF = '/errors/off';
const topicPath = (name: string) => `/api/pubsub/topics/${enc(name)}`;

let server: TestServer;
// Bodies the fixtures were created with (also valid PUT bodies for them).
let chA: Json;
let chB: Json;
let chStopped: Json;
let outA: Json;
let outB: Json;

const wsAddress = async (path: string) => `ws://127.0.0.1:${await freePort()}${path}`;

async function create(path: string, body: Json): Promise<void> {
  const res = await server.api('POST', path, body);
  if (res.status !== 201) throw new Error(`Fixture POST ${path} failed: ${res.status} ${JSON.stringify(res.body)}`);
}

before(async () => {
  // This file sends a few hundred wrong tokens on purpose (every route × every variant): throttling them to
  // 429 after ten is tested in admin-hardening.test.ts, here the 401 contract of each route is.
  server = await startTestServer({ adminAuthFailureLimit: 100_000 });
  await create('/api/security', { name: 'sec-a', type: 'apikey', secret: 'k-a' });
  await create('/api/security', { name: 'sec-b', type: 'basic_auth', username: 'u', password: 'p' });
  await create('/api/security', { name: 'sec-ch', type: 'apikey', secret: 'k-ch' });
  await create('/api/security', { name: 'sec-out', type: 'apikey', secret: 'k-out' });
  chA = { name: 'ch-a', address: await wsAddress('/a'), service: 'zato.ping', security: 'sec-ch' };
  chB = { name: 'ch-b', address: await wsAddress('/b'), service: 'zato.ping' };
  chStopped = { name: 'ch-stopped', address: await wsAddress('/stopped'), service: 'zato.ping', isActive: false };
  for (const ch of [chA, chB, chStopped]) await create('/api/channels/wsx', ch);
  // Inactive, so they do not keep trying to reach a remote that is not there.
  outA = { name: 'out-a', address: 'ws://127.0.0.1:1/a', isActive: false, security: 'sec-out' };
  outB = { name: 'out-b', address: 'ws://127.0.0.1:1/b', isActive: false };
  for (const out of [outA, outB]) await create('/api/outgoing/wsx', out);
  await create('/api/pubsub/topics', { name: TOPIC_A });
  await create('/api/pubsub/topics', { name: TOPIC_B });
  await create('/api/pubsub/topics', { name: TOPIC_OFF, isActive: false });
});
after(() => server.stop());

/** Asserts status, code, the error shape and (when given) the field; `field: null` means "no field". */
function expectError(route: string, res: ApiResult, status: number, code: string, field?: string | null): void {
  const got = `${route} answered ${res.status} ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, `${route}: expected ${status} ${code}; ${got}`);
  assert.ok(
    res.body && typeof res.body === 'object' && res.body.error && typeof res.body.error === 'object',
    `${route}: no { error } body; ${got}`,
  );
  const { error } = res.body as { error: Json };
  assert.equal(error.code, code, `${route}: expected code ${code}; ${got}`);
  assert.ok(typeof error.message === 'string' && error.message.length > 0, `${route}: error.message missing; ${got}`);
  const extra = Object.keys(error).filter((k) => !['code', 'message', 'field'].includes(k));
  assert.deepEqual(extra, [], `${route}: unexpected keys in error; ${got}`);
  if (field === null) assert.equal(error.field, undefined, `${route}: expected no field; ${got}`);
  else if (field !== undefined) assert.equal(error.field, field, `${route}: expected field ${field}; ${got}`);
}

function expectStatus(route: string, res: ApiResult, status: number): void {
  assert.equal(res.status, status, `${route}: expected ${status}; answered ${res.status} ${JSON.stringify(res.body)}`);
}

/** Runs `check` for every case and fails once, listing every route that failed (not just the first). */
async function forEach<T>(cases: readonly T[], check: (c: T) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await check(c);
    } catch (err) {
      failures.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
    }
  }
  assert.equal(failures.length, 0, `${failures.length} of ${cases.length} cases failed:\n  ${failures.join('\n  ')}`);
}

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  server.api(method, path, body, headers);

// ---------------------------------------------------------------------------------------------------------------
// Every route of the admin API (but /api/health and /metrics, which need no token).
interface Route {
  method: string;
  path: string;
  body?: Json;
}
const ROUTES: Route[] = [
  { method: 'GET', path: '/api/channels/wsx' },
  { method: 'POST', path: '/api/channels/wsx', body: { name: 'unauth-ch', address: 'ws://127.0.0.1:1/u', service: 'zato.ping' } },
  { method: 'GET', path: '/api/channels/wsx/ch-a' },
  { method: 'PUT', path: '/api/channels/wsx/ch-b', body: { name: 'ch-b', address: 'ws://127.0.0.1:1/u', service: 'zato.ping' } },
  { method: 'DELETE', path: '/api/channels/wsx/ch-b' },
  { method: 'GET', path: '/api/channels/wsx/ch-a/clients' },
  { method: 'DELETE', path: '/api/channels/wsx/ch-a/clients/some-client' },
  { method: 'POST', path: '/api/channels/wsx/ch-a/clients/some-client/invoke', body: { request: {} } },
  { method: 'GET', path: '/api/outgoing/wsx' },
  { method: 'POST', path: '/api/outgoing/wsx', body: { name: 'unauth-out', address: 'ws://127.0.0.1:1/u', isActive: false } },
  { method: 'GET', path: '/api/outgoing/wsx/out-a' },
  { method: 'PUT', path: '/api/outgoing/wsx/out-b', body: { name: 'out-b', address: 'ws://127.0.0.1:1/u', isActive: false } },
  { method: 'DELETE', path: '/api/outgoing/wsx/out-b' },
  { method: 'GET', path: '/api/security' },
  { method: 'POST', path: '/api/security', body: { name: 'unauth-sec', type: 'apikey', secret: 's' } },
  { method: 'GET', path: '/api/security/sec-a' },
  { method: 'PUT', path: '/api/security/sec-a', body: { name: 'sec-a', type: 'apikey', secret: 'changed' } },
  { method: 'DELETE', path: '/api/security/sec-a' },
  { method: 'GET', path: '/api/pubsub/topics' },
  { method: 'POST', path: '/api/pubsub/topics', body: { name: '/unauth' } },
  { method: 'GET', path: topicPath(TOPIC_A) },
  { method: 'PUT', path: topicPath(TOPIC_B), body: { name: TOPIC_B, hasGd: false } },
  { method: 'DELETE', path: topicPath(TOPIC_B) },
  { method: 'POST', path: `${topicPath(TOPIC_A)}/publish`, body: { data: 'unauthenticated' } },
  { method: 'GET', path: `${topicPath(TOPIC_A)}/messages` },
  { method: 'GET', path: '/api/pubsub/subscriptions' },
  { method: 'GET', path: '/api/pubsub/subscriptions/zpsk.wsx.none' },
  { method: 'DELETE', path: '/api/pubsub/subscriptions/zpsk.wsx.none' },
  { method: 'GET', path: '/api/services' },
  { method: 'GET', path: '/api/services/zato.ping' },
  { method: 'GET', path: '/api/services/deployments' },
  { method: 'POST', path: '/api/services/zato.ping/invoke', body: { request: {} } },
];

describe('admin API errors: 401 on every route', () => {
  const variants: Array<[string, Record<string, string>]> = [
    ['no token', { authorization: '' }],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['a wrong token of the right length', { authorization: `Bearer ${TEST_TOKEN.slice(0, -1)}X` }],
    ['an empty bearer token', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: `Basic ${Buffer.from(TEST_TOKEN).toString('base64')}` }],
  ];

  for (const [what, headers] of variants) {
    test(`${what}: 401 unauthorized with WWW-Authenticate`, async () => {
      await forEach(ROUTES, async (r) => {
        const route = `${r.method} ${r.path} (${what})`;
        const res = await fetch(server.adminUrl + r.path, {
          method: r.method,
          headers: { ...headers, ...(r.body ? { 'content-type': 'application/json' } : {}) },
          ...(r.body ? { body: JSON.stringify(r.body) } : {}),
        });
        const text = await res.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text for the message
        }
        expectError(route, { status: res.status, body }, 401, 'unauthorized', null);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /, `${route}: WWW-Authenticate missing`);
      });
    });
  }

  test('authentication comes before body parsing: malformed JSON without a token is 401, not 400', async () => {
    await forEach(
      ROUTES.filter((x) => x.body),
      async (r) =>
        expectError(
          `${r.method} ${r.path}`,
          await call(r.method, r.path, '{"name": ', { authorization: '', 'content-type': 'application/json' }),
          401,
          'unauthorized',
        ),
    );
  });

  test('nothing was changed by the refused calls', async () => {
    for (const path of ['/api/channels/wsx/ch-b', '/api/outgoing/wsx/out-b', '/api/security/sec-a', topicPath(TOPIC_B)]) {
      expectStatus(`GET ${path}`, await call('GET', path), 200);
    }
    for (const path of [
      '/api/channels/wsx/unauth-ch',
      '/api/outgoing/wsx/unauth-out',
      '/api/security/unauth-sec',
      topicPath('/unauth'),
    ]) {
      assert.equal((await call('GET', path)).status, 404, `GET ${path}: an unauthenticated POST created it`);
    }
    assert.equal((await call('GET', `${topicPath(TOPIC_A)}/messages`)).body.length, 0, 'an unauthenticated publish was stored');
    assert.equal((await call('GET', '/api/channels/wsx/ch-b')).body.address, chB.address, 'an unauthenticated PUT changed ch-b');
  });
});

// ---------------------------------------------------------------------------------------------------------------
interface BodyRoute {
  method: string;
  path: string;
  /** A body this route accepts (or would accept: validation comes before the lookup). */
  valid: () => Json;
  /** A field and a value of the wrong type. */
  wrongType?: [string, unknown];
  /** A required field to leave out. */
  missing?: string;
  /** More cases: [what, body, field]. */
  more?: Array<[string, Json, string]>;
}

const BODY_ROUTES: BodyRoute[] = [
  {
    method: 'POST',
    path: '/api/channels/wsx',
    valid: () => ({ name: 'bad-ch', address: 'ws://127.0.0.1:1/bad', service: 'zato.ping' }),
    wrongType: ['pingInterval', 'often'],
    missing: 'service',
    more: [
      [
        'wrong enum',
        { name: 'bad-ch', address: 'ws://127.0.0.1:1/bad', service: 'zato.ping', protocol: 'carrier-pigeon' },
        'protocol',
      ],
      [
        'wrong array item',
        { name: 'bad-ch', address: 'ws://127.0.0.1:1/bad', service: 'zato.ping', allowedOrigins: [1] },
        'allowedOrigins.0',
      ],
      ['empty name', { name: '', address: 'ws://127.0.0.1:1/bad', service: 'zato.ping' }, 'name'],
    ],
  },
  { method: 'PUT', path: '/api/channels/wsx/ch-b', valid: () => chB, wrongType: ['isActive', 'yes'], missing: 'address' },
  {
    // Nothing is required: no missing-field case.
    method: 'POST',
    path: '/api/channels/wsx/ch-a/clients/some-client/invoke',
    valid: () => ({ request: { q: 1 }, timeout: 1 }),
    wrongType: ['timeout', 'soon'],
    more: [['a timeout out of range', { timeout: 0 }, 'timeout']],
  },
  {
    method: 'POST',
    path: '/api/outgoing/wsx',
    valid: () => ({ name: 'bad-out', address: 'ws://127.0.0.1:1/bad', isActive: false }),
    wrongType: ['poolSize', 'two'],
    missing: 'address',
    more: [
      [
        'a nested wrong type',
        { name: 'bad-out', address: 'ws://127.0.0.1:1/bad', reconnect: { initial: 'soon' } },
        'reconnect.initial',
      ],
      ['a nested unknown field', { name: 'bad-out', address: 'ws://127.0.0.1:1/bad', reconnect: { maxx: 1 } }, 'reconnect.maxx'],
    ],
  },
  {
    method: 'PUT',
    path: '/api/outgoing/wsx/out-b',
    valid: () => outB,
    wrongType: ['subscriptionList', '/orders'],
    missing: 'name',
  },
  {
    method: 'POST',
    path: '/api/security',
    valid: () => ({ name: 'bad-sec', type: 'apikey', secret: 's' }),
    wrongType: ['secret', 42],
    missing: 'type',
  },
  {
    method: 'PUT',
    path: '/api/security/sec-b',
    valid: () => ({ name: 'sec-b', type: 'basic_auth', username: 'u' }),
    wrongType: ['username', ['u']],
    missing: 'name',
  },
  { method: 'POST', path: '/api/pubsub/topics', valid: () => ({ name: '/bad' }), wrongType: ['hasGd', 'yes'], missing: 'name' },
  { method: 'PUT', path: topicPath(TOPIC_B), valid: () => ({ name: TOPIC_B }), wrongType: ['maxDepthGd', '10'], missing: 'name' },
  {
    method: 'POST',
    path: `${topicPath(TOPIC_A)}/publish`,
    valid: () => ({ data: { n: 1 }, priority: 5 }),
    wrongType: ['priority', 'high'],
    missing: 'data',
    more: [['a priority out of range', { data: 1, priority: 10 }, 'priority']],
  },
  // `request` takes any JSON and nothing is required: no wrong-type or missing-field case here.
  { method: 'POST', path: '/api/services/zato.ping/invoke', valid: () => ({ request: {} }) },
];

describe('admin API errors: 400 names the field on every route with a body', () => {
  test('malformed JSON and an empty JSON body are 400 invalid_json', async () => {
    await forEach(BODY_ROUTES, async (r) => {
      const route = `${r.method} ${r.path}`;
      expectError(
        `${route} (malformed JSON)`,
        await call(r.method, r.path, '{"name": ', { 'content-type': 'application/json' }),
        400,
        'invalid_json',
        null,
      );
      expectError(
        `${route} (empty body)`,
        await call(r.method, r.path, '', { 'content-type': 'application/json' }),
        400,
        'invalid_json',
        null,
      );
    });
  });

  test('a body that is not an object is 400 invalid_body', async () => {
    await forEach(BODY_ROUTES, async (r) => {
      for (const body of ['[]', '"text"', '42', 'null']) {
        expectError(
          `${r.method} ${r.path} (body ${body})`,
          await call(r.method, r.path, body, { 'content-type': 'application/json' }),
          400,
          'invalid_body',
        );
      }
    });
  });

  test('an unknown field is 400 invalid_body naming it', async () => {
    await forEach(BODY_ROUTES, async (r) => {
      const res = await call(r.method, r.path, { ...r.valid(), colour: 'blue' });
      expectError(`${r.method} ${r.path} (unknown field)`, res, 400, 'invalid_body', 'colour');
      assert.match(res.body.error.message, /colour/, `${r.method} ${r.path}: the message does not name the field`);
    });
  });

  test('a field of the wrong type is 400 invalid_body naming it', async () => {
    await forEach(
      BODY_ROUTES.filter((x) => x.wrongType),
      async (r) => {
        const [field, value] = r.wrongType!;
        expectError(
          `${r.method} ${r.path} (${field}: ${JSON.stringify(value)})`,
          await call(r.method, r.path, { ...r.valid(), [field]: value }),
          400,
          'invalid_body',
          field,
        );
      },
    );
  });

  test('a missing required field is 400 invalid_body naming it', async () => {
    await forEach(
      BODY_ROUTES.filter((x) => x.missing),
      async (r) => {
        const body = { ...r.valid() };
        delete body[r.missing!];
        const res = await call(r.method, r.path, body);
        expectError(`${r.method} ${r.path} (without ${r.missing})`, res, 400, 'invalid_body', r.missing!);
        assert.match(
          res.body.error.message,
          new RegExp(r.missing!),
          `${r.method} ${r.path}: the message does not name the field`,
        );
      },
    );
  });

  test('route-specific invalid bodies name the field', async () => {
    const cases = BODY_ROUTES.flatMap((r) => (r.more ?? []).map(([what, body, field]) => ({ ...r, what, body, field })));
    await forEach(cases, async (c) =>
      expectError(`${c.method} ${c.path} (${c.what})`, await call(c.method, c.path, c.body), 400, 'invalid_body', c.field),
    );
  });

  test('semantic checks name the field (invalid_input)', async () => {
    const cases: Array<[string, string, Json, string]> = [
      ['POST', '/api/channels/wsx', { name: 'bad-ch', address: 'ws://127.0.0.1/no-port', service: 'zato.ping' }, 'address'],
      [
        'POST',
        '/api/channels/wsx',
        { name: 'bad-ch', address: 'ws://127.0.0.1:1/x', service: 'zato.ping', security: 'nope' },
        'security',
      ],
      ['PUT', '/api/channels/wsx/ch-b', { ...chB, address: 'http://127.0.0.1:1/b' }, 'address'],
      ['POST', '/api/outgoing/wsx', { name: 'bad-out', address: 'http://x' }, 'address'],
      ['POST', '/api/outgoing/wsx', { name: 'bad-out', address: 'ws://x:1', security: 'nope' }, 'security'],
      ['POST', '/api/outgoing/wsx', { name: 'bad-out', address: 'ws://x:1', reconnect: { initial: 5, max: 1 } }, 'reconnect.max'],
      ['PUT', '/api/outgoing/wsx/out-b', { ...outB, security: 'nope' }, 'security'],
      ['POST', '/api/security', { name: 'bad-sec', type: 'apikey' }, 'password'],
      ['POST', '/api/security', { name: 'bad-sec', type: 'basic_auth', password: 'p' }, 'username'],
      ['PUT', '/api/security/sec-b', { name: 'sec-b', type: 'basic_auth' }, 'username'],
    ];
    await forEach(cases, async ([method, path, body, field]) =>
      expectError(`${method} ${path} (${JSON.stringify(body)})`, await call(method, path, body), 400, 'invalid_input', field),
    );
    const badTopic = await call('POST', '/api/pubsub/topics', { name: 'no-leading-slash' });
    expectError('POST /api/pubsub/topics (name without a slash)', badTopic, 400, 'invalid_body', 'name');
  });

  test('query parameters of /messages are checked too', async () => {
    const base = `${topicPath(TOPIC_A)}/messages`;
    const cases: Array<[string, string]> = [
      ['?after=abc', 'after'],
      ['?limit=-1', 'limit'],
      ['?limit=ten', 'limit'],
      ['?aftr=3', 'aftr'],
    ];
    await forEach(cases, async ([query, field]) =>
      expectError(`GET ${base}${query}`, await call('GET', base + query), 400, 'invalid_body', field),
    );
    expectStatus(`GET ${base}?after=0&limit=10`, await call('GET', `${base}?after=0&limit=10`), 200);
  });

  test('nothing was created or changed by the refused calls', async () => {
    for (const path of ['/api/channels/wsx/bad-ch', '/api/outgoing/wsx/bad-out', '/api/security/bad-sec', topicPath('/bad')]) {
      assert.equal((await call('GET', path)).status, 404, `GET ${path}: an invalid POST created it`);
    }
    const b = (await call('GET', '/api/channels/wsx/ch-b')).body;
    assert.equal(b.address, chB.address, 'an invalid PUT changed ch-b');
    assert.equal(b.isActive, true, 'an invalid PUT changed ch-b');
    assert.equal((await call('GET', topicPath(TOPIC_B))).body.maxDepthGd, 10_000, `an invalid PUT changed ${TOPIC_B}`);
    assert.equal((await call('GET', `${topicPath(TOPIC_A)}/messages`)).body.length, 0, 'an invalid publish was stored');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('admin API errors: 404 with a resource-specific code', () => {
  test('unknown names on every route', async () => {
    const nope = { name: 'nope', address: await wsAddress('/nope'), service: 'zato.ping' };
    const cases: Array<[string, string, Json | undefined, string]> = [
      ['GET', '/api/channels/wsx/nope', undefined, 'channel_not_found'],
      ['PUT', '/api/channels/wsx/nope', nope, 'channel_not_found'],
      ['PUT', '/api/channels/wsx/nope', { ...nope, name: 'renamed' }, 'channel_not_found'],
      ['DELETE', '/api/channels/wsx/nope', undefined, 'channel_not_found'],
      ['GET', '/api/channels/wsx/nope/clients', undefined, 'channel_not_found'],
      ['DELETE', '/api/channels/wsx/nope/clients/some-client', undefined, 'channel_not_found'],
      ['POST', '/api/channels/wsx/nope/clients/some-client/invoke', { request: {} }, 'channel_not_found'],
      ['DELETE', '/api/channels/wsx/ch-a/clients/some-client', undefined, 'client_not_found'],
      ['POST', '/api/channels/wsx/ch-a/clients/some-client/invoke', { request: {} }, 'client_not_found'],
      ['DELETE', '/api/channels/wsx/ch-stopped/clients/some-client', undefined, 'client_not_found'],
      ['POST', '/api/channels/wsx/ch-stopped/clients/some-client/invoke', {}, 'client_not_found'],
      ['GET', '/api/outgoing/wsx/nope', undefined, 'outgoing_not_found'],
      ['PUT', '/api/outgoing/wsx/nope', { name: 'nope', address: 'ws://127.0.0.1:1/x', isActive: false }, 'outgoing_not_found'],
      ['DELETE', '/api/outgoing/wsx/nope', undefined, 'outgoing_not_found'],
      ['GET', '/api/security/nope', undefined, 'security_not_found'],
      ['PUT', '/api/security/nope', { name: 'nope', type: 'apikey', secret: 's' }, 'security_not_found'],
      ['PUT', '/api/security/nope', { name: 'renamed', type: 'apikey' }, 'security_not_found'],
      ['DELETE', '/api/security/nope', undefined, 'security_not_found'],
      ['GET', topicPath('/nope'), undefined, 'topic_not_found'],
      ['PUT', topicPath('/nope'), { name: '/nope' }, 'topic_not_found'],
      ['DELETE', topicPath('/nope'), undefined, 'topic_not_found'],
      ['POST', `${topicPath('/nope')}/publish`, { data: 1 }, 'topic_not_found'],
      ['GET', `${topicPath('/nope')}/messages`, undefined, 'topic_not_found'],
      ['GET', '/api/pubsub/subscriptions/zpsk.wsx.nope', undefined, 'subscription_not_found'],
      ['DELETE', '/api/pubsub/subscriptions/zpsk.wsx.nope', undefined, 'subscription_not_found'],
      ['GET', '/api/services/no.such', undefined, 'service_not_found'],
      ['GET', `/api/services/${enc('no such/service')}`, undefined, 'service_not_found'],
      ['POST', '/api/services/no.such/invoke', { request: {} }, 'service_not_found'],
      ['POST', '/api/services/no.such/invoke', undefined, 'service_not_found'],
      ['GET', '/api/no/such/route', undefined, 'not_found'],
      ['PATCH', '/api/channels/wsx/ch-a', { name: 'ch-a' }, 'not_found'],
    ];
    await forEach(cases, async ([method, path, body, code]) =>
      expectError(`${method} ${path}${body ? ` ${JSON.stringify(body)}` : ''}`, await call(method, path, body), 404, code),
    );
  });

  test('the refused PUTs created nothing', async () => {
    for (const path of [
      '/api/channels/wsx/nope',
      '/api/channels/wsx/renamed',
      '/api/outgoing/wsx/nope',
      '/api/security/nope',
      '/api/security/renamed',
      topicPath('/nope'),
    ]) {
      assert.equal((await call('GET', path)).status, 404, `GET ${path}: a PUT onto an unknown name created it`);
    }
  });

  test('a client is addressed through its own channel only; a client gone is 404', async () => {
    const address = await wsAddress('/plain');
    expectStatus(
      'POST /api/channels/wsx (plain)',
      await call('POST', '/api/channels/wsx', { name: 'ch-plain', address, service: 'zato.ping', protocol: 'plain' }),
      201,
    );
    const client = await TestClient.connect(address);
    try {
      const listed = await call('GET', '/api/channels/wsx/ch-plain/clients');
      expectStatus('GET /api/channels/wsx/ch-plain/clients', listed, 200);
      assert.equal(listed.body.length, 1, 'GET /api/channels/wsx/ch-plain/clients: expected one client');
      const id = listed.body[0].pubClientId as string;
      expectError(
        `DELETE /api/channels/wsx/ch-b/clients/${id} (another channel's client)`,
        await call('DELETE', `/api/channels/wsx/ch-b/clients/${id}`),
        404,
        'client_not_found',
      );
      expectError(
        `POST /api/channels/wsx/ch-b/clients/${id}/invoke (another channel's client)`,
        await call('POST', `/api/channels/wsx/ch-b/clients/${id}/invoke`, {}),
        404,
        'client_not_found',
      );
      expectError(
        `POST /api/channels/wsx/ch-plain/clients/${id}/invoke (plain client)`,
        await call('POST', `/api/channels/wsx/ch-plain/clients/${id}/invoke`, { request: 1 }),
        409,
        'not_supported',
      );
      expectStatus(
        `DELETE /api/channels/wsx/ch-plain/clients/${id}`,
        await call('DELETE', `/api/channels/wsx/ch-plain/clients/${id}`),
        200,
      );
      await client.closed;
      expectError(
        `DELETE /api/channels/wsx/ch-plain/clients/${id} (again)`,
        await call('DELETE', `/api/channels/wsx/ch-plain/clients/${id}`),
        404,
        'client_not_found',
      );
    } finally {
      client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('admin API errors: 409 for conflicts', () => {
  test('duplicate names, renames onto a taken name, addresses in use', async () => {
    const portOf = (a: unknown) => new URL(a as string).port;
    const cases: Array<[string, string, Json, string, string]> = [
      ['POST', '/api/channels/wsx', { ...chB, name: 'ch-a', address: await wsAddress('/dup') }, 'channel_exists', 'name'],
      ['PUT', '/api/channels/wsx/ch-b', { ...chB, name: 'ch-a' }, 'channel_exists', 'name'],
      ['PUT', '/api/channels/wsx/ch-b', { ...chB, name: 'ch-stopped' }, 'channel_exists', 'name'],
      ['POST', '/api/channels/wsx', { ...chB, name: 'ch-new', address: chA.address }, 'address_in_use', 'address'],
      [
        'POST',
        '/api/channels/wsx',
        { ...chB, name: 'ch-new', address: `ws://0.0.0.0:${portOf(chA.address)}/a` },
        'address_in_use',
        'address',
      ],
      ['POST', '/api/channels/wsx', { ...chB, name: 'ch-new', address: chStopped.address }, 'address_in_use', 'address'],
      ['PUT', '/api/channels/wsx/ch-b', { ...chB, address: chA.address }, 'address_in_use', 'address'],
      ['POST', '/api/outgoing/wsx', { ...outB, name: 'out-a' }, 'outgoing_exists', 'name'],
      ['PUT', '/api/outgoing/wsx/out-b', { ...outB, name: 'out-a' }, 'outgoing_exists', 'name'],
      ['POST', '/api/security', { name: 'sec-a', type: 'apikey', secret: 'x' }, 'security_exists', 'name'],
      ['PUT', '/api/security/sec-b', { name: 'sec-a', type: 'basic_auth', username: 'u' }, 'security_exists', 'name'],
      ['PUT', '/api/security/sec-ch', { name: 'sec-renamed', type: 'apikey' }, 'security_in_use', 'name'],
      ['POST', '/api/pubsub/topics', { name: TOPIC_A }, 'topic_exists', 'name'],
      ['PUT', topicPath(TOPIC_B), { name: TOPIC_A }, 'topic_exists', 'name'],
    ];
    await forEach(cases, async ([method, path, body, code, field]) =>
      expectError(`${method} ${path} ${JSON.stringify(body)}`, await call(method, path, body), 409, code, field),
    );
  });

  test('a channel on another path of the same port is no conflict', async () => {
    const port = new URL(chA.address as string).port;
    const res = await call('POST', '/api/channels/wsx', {
      name: 'ch-a-sibling',
      address: `ws://127.0.0.1:${port}/sibling`,
      service: 'zato.ping',
    });
    expectStatus('POST /api/channels/wsx (same port, another path)', res, 201);
    expectStatus('DELETE /api/channels/wsx/ch-a-sibling', await call('DELETE', '/api/channels/wsx/ch-a-sibling'), 200);
  });

  test('deleting a security definition in use is 409 security_in_use naming its users', async () => {
    const byChannel = await call('DELETE', '/api/security/sec-ch');
    expectError('DELETE /api/security/sec-ch', byChannel, 409, 'security_in_use');
    assert.match(
      byChannel.body.error.message,
      /channel ch-a/,
      'DELETE /api/security/sec-ch: the message does not name the channel',
    );
    const byOutgoing = await call('DELETE', '/api/security/sec-out');
    expectError('DELETE /api/security/sec-out', byOutgoing, 409, 'security_in_use');
    assert.match(
      byOutgoing.body.error.message,
      /outgoing connection out-a/,
      'DELETE /api/security/sec-out: the message does not name the connection',
    );
  });

  test('publishing to an inactive topic is 409 topic_inactive', async () => {
    expectError(
      `POST ${topicPath(TOPIC_OFF)}/publish`,
      await call('POST', `${topicPath(TOPIC_OFF)}/publish`, { data: 1 }),
      409,
      'topic_inactive',
    );
  });

  test('the refused calls changed nothing', async () => {
    const b = await call('GET', '/api/channels/wsx/ch-b');
    expectStatus('GET /api/channels/wsx/ch-b', b, 200);
    assert.equal(b.body.address, chB.address, 'a refused PUT changed ch-b');
    for (const path of ['/api/channels/wsx/ch-new', '/api/security/sec-renamed']) {
      assert.equal((await call('GET', path)).status, 404, `GET ${path}: a refused call created it`);
    }
    for (const path of [
      '/api/channels/wsx/ch-a',
      '/api/outgoing/wsx/out-b',
      '/api/security/sec-b',
      '/api/security/sec-ch',
      '/api/security/sec-out',
      topicPath(TOPIC_B),
    ]) {
      expectStatus(`GET ${path} (after the conflicts)`, await call('GET', path), 200);
    }
    assert.equal((await call('GET', '/api/channels/wsx/ch-a')).body.runtime.state, 'listening', 'ch-a stopped listening');
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('admin API: GET /api/services/{name} and invoking without a body', () => {
  test('answers one service like the list does, aliases included', async () => {
    const list = (await call('GET', '/api/services')).body as Json[];
    for (const name of ['zato.ping', 'zato.helpers.echo', 'helpers.echo']) {
      const res = await call('GET', `/api/services/${enc(name)}`);
      expectStatus(`GET /api/services/${name}`, res, 200);
      assert.deepEqual(
        res.body,
        list.find((s) => s.name === name),
        `GET /api/services/${name}: differs from the list entry`,
      );
    }
    const alias = (await call('GET', '/api/services/helpers.echo')).body;
    assert.equal(alias.isAlias, true, 'GET /api/services/helpers.echo: isAlias');
    assert.equal(typeof alias.deployedAt, 'string', 'GET /api/services/helpers.echo: deployedAt');
    assert.equal(alias.source, 'builtin', 'GET /api/services/helpers.echo: source');
    expectStatus('GET /api/services/deployments', await call('GET', '/api/services/deployments'), 200);
    // All fields of an invoke body are optional, so no body at all is an empty request, not a 400.
    const noBody = await call('POST', '/api/services/zato.ping/invoke');
    expectStatus('POST /api/services/zato.ping/invoke (no body)', noBody, 200);
    assert.ok('response' in noBody.body, 'POST /api/services/zato.ping/invoke (no body): no response');
    assert.ok(
      Array.isArray((await call('GET', '/api/services/deployments')).body),
      'GET /api/services/deployments: not the deployment list',
    );
  });
});

describe('admin API errors: a NUL character in a name', () => {
  // PostgreSQL's text cannot hold NUL: both stores refuse such a name alike, and looking one up finds nothing.
  test('creating or renaming to a name with NUL is 400 invalid_input naming the field; looking one up is 404', async () => {
    const created = await server.api('POST', '/api/security', { name: 'a\u0000b', type: 'apikey', secret: 'k' });
    assert.equal(created.status, 400, JSON.stringify(created.body));
    assert.equal(created.body.error.code, 'invalid_input');
    assert.equal(created.body.error.field, 'name');
    const renamed = await server.api('PUT', `/api/outgoing/wsx/${enc(String(outA.name))}`, { ...outA, name: 'x\u0000' });
    assert.equal(renamed.status, 400, JSON.stringify(renamed.body));
    for (const path of ['/api/security/', '/api/channels/wsx/', '/api/outgoing/wsx/', '/api/pubsub/topics/']) {
      const got = await server.api('GET', `${path}${enc('\u0000')}`);
      assert.equal(got.status, 404, `${path}%00: ${JSON.stringify(got.body)}`);
    }
    assert.equal((await server.api('GET', `/api/outgoing/wsx/${enc(String(outA.name))}`)).status, 200, 'the original is kept');
  });
});
