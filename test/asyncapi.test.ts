// The AsyncAPI 3.0 document at /api/asyncapi.json (and `switchboard export --asyncapi`): generated live from the
// configuration, valid for @asyncapi/parser, and describing frames as the server really sends and takes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { Service, bool, date, dateTime, dict, float, int, list, opaque, text, uuid } from '../src/index.js';
import { buildAsyncApi, type AsyncApiInput } from '../src/admin/asyncapi/document.js';
import { clientResponse, createSession, invokeService } from '../src/protocol/index.js';
import { createChannel, freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';
import { selfSigned } from './helpers/tls-certs.js';
import { TestClient } from './helpers/wsx-client.js';

type Json = Record<string, any>;

const parser = new Parser();

/** Parses a document with @asyncapi/parser: its model, and its diagnostics of severity error (0) and warning (1). */
async function parse(doc: unknown) {
  const { document, diagnostics } = await parser.parse(JSON.stringify(doc));
  const of = (severity: number) =>
    diagnostics.filter((d) => d.severity === severity).map((d) => `${d.code}: ${d.message} at ${d.path.join('/')}`);
  return { document, errors: of(0), warnings: of(1) };
}

/** A service with every SimpleIO element type, in and out. */
class Quote extends Service {
  static override serviceName = 'test.quote';
  static override io = {
    inputRequired: [text('symbol'), int('qty')],
    inputOptional: [float('limit'), bool('urgent'), dict('extra'), list('tags'), opaque('note'), date('day'), uuid('ref')],
    outputRequired: [float('price'), text('symbol')],
    outputOptional: [dateTime('at')],
  };
  handle(): void {
    const { symbol, qty } = this.request.input as { symbol: string; qty: number };
    this.response.payload = { price: qty * 1.5, symbol, at: new Date() };
  }
}

const PASSWORD = 'a-password-for-asyncapi';
const JWT_SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
const GATEWAY = 'helpers.web-sockets-gateway';
const bin = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'switchboard.js');

let server: TestServer;
const urls: Record<string, string> = {};

async function channel(body: Json, path: string): Promise<void> {
  urls[body.name] = await createChannel(server, body as Json & { name: string; service: string }, path);
}

before(async () => {
  server = await startTestServer();
  server.registry.replaceSource('asyncapi-test', [{ name: Quote.serviceName, cls: Quote }]);
  for (const body of [
    { name: 'users', type: 'basic_auth', username: 'ada', password: PASSWORD },
    { name: 'keys', type: 'apikey', secret: 'an-api-key-1234' },
    { name: 'tokens', type: 'jwt', secret: JWT_SECRET },
  ]) {
    assert.equal((await server.api('POST', '/api/security', body)).status, 201);
  }
  await channel({ name: 'zato-gw', service: GATEWAY, gatewayServices: ['test.*'] }, '/gw');
  await channel({ name: 'zato-basic', service: 'test.quote', security: 'users' }, '/basic');
  await channel({ name: 'zato-key', service: 'test.quote', security: 'keys' }, '/key');
  await channel({ name: 'zato-jwt', service: GATEWAY, security: 'tokens', gatewayServices: ['test.quote'] }, '/jwt');
  await channel({ name: 'zato-pub-only', service: GATEWAY, topicPatterns: ['pub=/orders/*'] }, '/pub-only');
  await channel({ name: 'plain-basic', service: 'test.quote', protocol: 'plain', dataFormat: 'json', security: 'users' }, '/pb');
  await channel({ name: 'plain-key', service: 'zato.helpers.echo', protocol: 'plain', security: 'keys' }, '/pk');
  await channel({ name: 'plain-jwt', service: 'test.quote', protocol: 'plain', dataFormat: 'json', security: 'tokens' }, '/pj');
  const pair = selfSigned(server.dir, 'asyncapi');
  const secure = `wss://127.0.0.1:${await freePort()}/secure`;
  await channel(
    { name: 'zato-wss', address: secure, service: 'test.quote', tlsCertFile: pair.certFile, tlsKeyFile: pair.keyFile },
    '/secure',
  );
  for (const name of ['/orders/new', '/alerts']) {
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name })).status, 201);
  }
});
after(() => server?.stop());

async function fetchDocument(): Promise<Json> {
  const res = await server.api('GET', '/api/asyncapi.json');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Json;
}

/** The object a local `$ref` points at (the document's own references only). */
function resolve(doc: Json, node: Json): Json {
  if (typeof node?.$ref !== 'string') return node;
  const path = (node.$ref as string).replace(/^#\//, '').split('/');
  return resolve(
    doc,
    path.reduce<Json>((at, key) => at?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc),
  );
}

/**
 * Whether `value` fits `schema` in what these documents use (type, const, required, properties, items, oneOf,
 * anyOf, allOf, pattern, bounds): enough to catch a described frame that differs from the real one.
 */
function fits(doc: Json, schemaOrRef: Json, value: unknown): boolean {
  const schema = resolve(doc, schemaOrRef);
  const types = schema.type === undefined ? undefined : [schema.type].flat();
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types && !types.some((t: string) => t === typeOf(value) || (t === 'number' && typeOf(value) === 'integer'))) return false;
  if ('const' in schema && schema.const !== value) return false;
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) return false;
  if (typeof value === 'string' && value.length > (schema.maxLength ?? Infinity)) return false;
  if (typeof value === 'number' && (value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Infinity))) return false;
  if (schema.allOf && !schema.allOf.every((s: Json) => fits(doc, s, value))) return false;
  if (schema.anyOf && !schema.anyOf.some((s: Json) => fits(doc, s, value))) return false;
  if (schema.oneOf && schema.oneOf.filter((s: Json) => fits(doc, s, value)).length !== 1) return false;
  if (Array.isArray(value)) return !schema.items || value.every((v) => fits(doc, schema.items, v));
  if (typeof value !== 'object' || value === null) return true;
  const record = value as Json;
  if ((schema.required ?? []).some((k: string) => !(k in record))) return false;
  return Object.entries(schema.properties ?? {}).every(([k, s]) => !(k in record) || fits(doc, s as Json, record[k]));
}

/** The payload schema of a message of a channel. */
const payloadOf = (doc: Json, channel: string, message: string): Json =>
  resolve(doc, resolve(doc, doc.channels[channel].messages[message]).payload);

/** The security schemes of a server, resolved. */
const schemesOf = (doc: Json, server: string): Json[] => (doc.servers[server].security ?? []).map((s: Json) => resolve(doc, s));

describe('GET /api/asyncapi.json', () => {
  test('is a valid AsyncAPI 3.0.0 document: @asyncapi/parser reports no error', async () => {
    const doc = await fetchDocument();
    assert.equal(doc.asyncapi, '3.0.0');
    const { document, errors, warnings } = await parse(doc);
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, [], 'no warnings either (only the note that AsyncAPI 3.1 exists)');
    assert.ok(document, 'the parser gave a document');
    // The parser's model sees what the JSON says: every channel, operation and server.
    assert.equal(document.channels().length, Object.keys(doc.channels).length);
    assert.equal(document.operations().length, Object.keys(doc.operations).length);
    assert.equal(document.servers().get('zato-wss')?.protocol(), 'wss');
  });

  test('needs the admin token, like the rest of /api', async () => {
    const res = await fetch(`${server.adminUrl}/api/asyncapi.json`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as Json).error.code, 'unauthorized');
  });

  test('every channel: its address, protocol (ws or wss) and security scheme', async () => {
    const doc = await fetchDocument();
    for (const [name, url] of Object.entries(urls)) {
      const parsed = new URL(url);
      assert.equal(doc.servers[name].host, parsed.host, name);
      assert.equal(doc.servers[name].protocol, parsed.protocol === 'wss:' ? 'wss' : 'ws', name);
      assert.equal(doc.channels[name].address, parsed.pathname, name);
      assert.equal(doc.channels[name]['x-switchboard-url'], url, name);
      assert.deepEqual(doc.channels[name].servers, [{ $ref: `#/servers/${name}` }]);
    }
    assert.equal(doc.servers['zato-wss'].protocol, 'wss');
    assert.deepEqual(schemesOf(doc, 'zato-gw'), []);
    assert.deepEqual(schemesOf(doc, 'zato-wss'), []);
    const pick = (s: Json) => ({ type: s.type, in: s.in, scheme: s.scheme, bearerFormat: s.bearerFormat, name: s.name });
    const expected: Record<string, Json[]> = {
      'zato-basic': [{ type: 'userPassword' }],
      'zato-key': [{ type: 'apiKey', in: 'password' }],
      'zato-jwt': [{ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }],
      'plain-basic': [{ type: 'http', scheme: 'basic' }],
      'plain-key': [{ type: 'http', scheme: 'basic' }],
      'plain-jwt': [
        { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        { type: 'httpApiKey', in: 'query', name: 'access_token' },
      ],
    };
    const clean = (o: Json) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    for (const [name, schemes] of Object.entries(expected)) {
      assert.deepEqual(schemesOf(doc, name).map(pick).map(clean), schemes, name);
    }
    assert.match(schemesOf(doc, 'zato-basic')[0]!.description, /users.*create-session/);
  });

  test('zato channels carry the WSX frames: create-session, invoke-service, the envelopes, zwsx.rqc, zwsx.psrq', async () => {
    const doc = await fetchDocument();
    const messages = doc.channels['zato-basic'].messages as Json;
    for (const m of ['createSession', 'sessionCreated', 'errorResponse', 'errorMessage', 'serverRequest', 'clientResponse']) {
      assert.ok(messages[m], m);
    }
    const meta = (channel: string, message: string) => resolve(doc, payloadOf(doc, channel, message).properties.meta);
    assert.equal(meta('zato-basic', 'createSession').properties.action.const, 'create-session');
    assert.equal(meta('zato-basic', 'sessionCreated').properties.msg_type.const, 'zwsx.rspa');
    assert.equal(meta('zato-basic', 'serverRequest').properties.msg_type.const, 'zwsx.rqc');
    assert.equal(meta('zato-basic', 'pubsubDelivery').properties.msg_type.const, 'zwsx.psrq');
    assert.equal(meta('zato-basic', 'test.quote.request').properties.action.const, 'invoke-service');
    assert.equal(meta('zato-basic', 'test.quote.response').properties.msg_type.const, 'zwsx.rspok');
    const ops = doc.operations as Json;
    assert.equal(ops['zato-basic.createSession'].action, 'send');
    assert.deepEqual(ops['zato-basic.createSession'].reply.messages, [
      { $ref: '#/channels/zato-basic/messages/sessionCreated' },
      { $ref: '#/channels/zato-basic/messages/errorMessage' },
    ]);
    assert.equal(ops['zato-basic.invoke.test.quote'].action, 'send');
    assert.equal(ops['zato-basic.serverRequest'].action, 'receive');
    assert.deepEqual(ops['zato-basic.serverRequest'].reply.messages, [{ $ref: '#/channels/zato-basic/messages/clientResponse' }]);
    // Plain channels have none of that: the message is the request itself.
    assert.equal(doc.channels['plain-basic'].messages.createSession, undefined);
  });

  test("the mounted services' requests and responses come from their SimpleIO declarations", async () => {
    const doc = await fetchDocument();
    const input = resolve(doc, { $ref: '#/components/schemas/test.quote.input' });
    assert.deepEqual(input.required, ['symbol', 'qty']);
    assert.deepEqual(Object.fromEntries(Object.entries(input.properties as Json).map(([k, v]) => [k, [v.type, v.format]])), {
      symbol: ['string', undefined],
      qty: ['integer', undefined],
      limit: ['number', undefined],
      urgent: ['boolean', undefined],
      extra: ['object', undefined],
      tags: ['array', undefined],
      note: [undefined, undefined],
      day: ['string', 'date'],
      ref: ['string', 'uuid'],
    });
    const output = resolve(doc, { $ref: '#/components/schemas/test.quote.output' });
    assert.deepEqual(output.required, ['price', 'symbol']);
    assert.deepEqual(output.properties.at, { type: 'string', format: 'date-time' });
    // On its own channel the request is the data; through a gateway it is { service, request }; plain: the message.
    const data = (channel: string) => payloadOf(doc, channel, 'test.quote.request').properties.data;
    assert.deepEqual(data('zato-basic'), { $ref: '#/components/schemas/test.quote.input' });
    assert.equal(data('zato-jwt').properties.service.const, 'test.quote');
    assert.deepEqual(data('zato-jwt').properties.request, { $ref: '#/components/schemas/test.quote.input' });
    assert.deepEqual(resolve(doc, doc.channels['plain-basic'].messages['test.quote.request']).payload, {
      $ref: '#/components/schemas/test.quote.input',
    });
    const echo = resolve(doc, doc.channels['plain-key'].messages['zato.helpers.echo.request']);
    assert.equal(echo.payload.type, 'string', 'a text-format plain channel takes strings');
    assert.equal(echo.contentType, 'text/plain');
    // A gateway offers what it allows: its defaults and its gatewayServices patterns, nothing else.
    const gwOps = Object.keys(doc.operations).filter((k) => k.startsWith('zato-jwt.invoke.'));
    assert.ok(gwOps.includes('zato-jwt.invoke.test.quote'));
    assert.ok(gwOps.includes('zato-jwt.invoke.zato.pubsub.pubapi.publish-message'));
    assert.ok(!gwOps.some((k) => k.includes('helpers.web-sockets-gateway')));
    const pubsubOut = resolve(doc, { $ref: '#/components/schemas/zato.pubsub.pubapi.subscribe-wsx.output' });
    assert.deepEqual(pubsubOut.required, ['sub_key', 'current_depth']);
  });

  test('every topic is a channel with a publish (send) and a subscribe (receive) operation', async () => {
    const doc = await fetchDocument();
    const orders = doc.channels['topic.orders_new'];
    assert.equal(orders.address, '/orders/new');
    assert.equal(doc.channels['topic.alerts'].address, '/alerts');
    const ops = doc.operations as Json;
    assert.equal(ops['topic.orders_new.publish'].action, 'send');
    assert.equal(ops['topic.orders_new.subscribe'].action, 'receive');
    assert.deepEqual(ops['topic.orders_new.publish'].channel, { $ref: '#/channels/topic.orders_new' });
    assert.equal(ops['topic.alerts.publish'].action, 'send');
    assert.equal(ops['topic.alerts.subscribe'].action, 'receive');
    // Which zato channels reach the topic, by their pub/sub permissions.
    const zato = ['zato-basic', 'zato-gw', 'zato-jwt', 'zato-key', 'zato-wss'];
    assert.deepEqual(orders['x-switchboard-publishers'], [
      'zato-basic',
      'zato-gw',
      'zato-jwt',
      'zato-key',
      'zato-pub-only',
      'zato-wss',
    ]);
    assert.deepEqual(orders['x-switchboard-subscribers'], zato);
    assert.deepEqual(doc.channels['topic.alerts']['x-switchboard-publishers'], zato);
    assert.ok(orders.servers.some((s: Json) => s.$ref === '#/servers/zato-pub-only'));
    assert.ok(!doc.channels['topic.alerts'].servers.some((s: Json) => s.$ref === '#/servers/zato-pub-only'));
    assert.ok(!orders.servers.some((s: Json) => s.$ref.startsWith('#/servers/plain')));
    const publish = payloadOf(doc, 'topic.orders_new', 'publish').properties.data;
    assert.equal(publish.properties.service.const, 'zato.pubsub.pubapi.publish-message');
    assert.equal(publish.properties.request.allOf[1].properties.topic_name.const, '/orders/new');
    const delivery = payloadOf(doc, 'topic.orders_new', 'delivery').properties.data.oneOf[0];
    assert.equal(delivery.properties.topic_name.const, '/orders/new');
    const published = resolve(doc, payloadOf(doc, 'topic.orders_new', 'published').properties.data);
    assert.deepEqual(published.required, ['msg_id']);
  });

  test('the frames a real client exchanges with the server fit the schemas the document gives them', async () => {
    const doc = await fetchDocument();
    const check = (channel: string, message: string, frame: unknown) =>
      assert.ok(fits(doc, payloadOf(doc, channel, message), frame), `${message} on ${channel}: ${JSON.stringify(frame)}`);
    const client = await TestClient.connect(urls['zato-gw']!);
    try {
      check('zato-gw', 'createSession', JSON.parse(createSession('c1', { clientId: 'p.1', clientName: 'tester' })));
      const session = await client.createSession({ client_id: 'p.1', client_name: { kind: 'test', n: 1 } });
      check('zato-gw', 'sessionCreated', session);
      const request = { service: 'test.quote', request: { symbol: 'ACME', qty: 4, day: '2026-01-02' } };
      check('zato-gw', 'test.quote.request', JSON.parse(invokeService('i1', client.token, request)));
      const ok = await client.gateway('test.quote', request.request);
      assert.equal(ok.meta.msg_type, 'zwsx.rspok');
      check('zato-gw', 'test.quote.response', ok);
      const refused = await client.gateway('test.quote', { symbol: 'ACME' });
      assert.equal(refused.meta.msg_type, 'zwsx.rsperr');
      check('zato-gw', 'errorResponse', refused);
      assert.ok(!fits(doc, payloadOf(doc, 'zato-gw', 'test.quote.response'), refused), 'an error is no response');
      const sub = await client.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/orders/new' });
      check('zato-gw', 'zato.pubsub.pubapi.subscribe-wsx.response', sub);
      const published = await client.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/orders/new', data: { n: 1 } });
      check('topic.orders_new', 'published', published);
      const delivery = await client.next();
      assert.equal(delivery.meta.msg_type, 'zwsx.psrq');
      check('topic.orders_new', 'delivery', delivery);
      check('zato-gw', 'pubsubDelivery', delivery);
      assert.ok(!fits(doc, payloadOf(doc, 'topic.alerts', 'delivery'), delivery), 'a delivery of another topic');
      check('topic.orders_new', 'acknowledgement', JSON.parse(clientResponse(delivery.meta.id, client.token, null)));
    } finally {
      client.close();
    }
  });

  test('follows live changes: a channel, topic or service added later is in the next document', async () => {
    const before = await fetchDocument();
    assert.equal(before.channels.late, undefined);
    await channel({ name: 'late', service: 'test.late', protocol: 'plain', dataFormat: 'json' }, '/late');
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/late/news' })).status, 201);
    assert.equal((await server.api('DELETE', `/api/pubsub/topics/${encodeURIComponent('/alerts')}`)).status, 200);
    const undeployed = await fetchDocument();
    assert.match(undeployed.channels.late.messages['test.late.request'].payload.description, /not deployed/);
    class Late extends Service {
      static override serviceName = 'test.late';
      static override io = { inputRequired: [int('n')] };
      handle(): void {}
    }
    server.registry.replaceSource('asyncapi-late', [{ name: Late.serviceName, cls: Late }]);
    const after = await fetchDocument();
    assert.equal(after.channels.late.address, '/late');
    assert.equal(after.servers.late.host, new URL(urls.late!).host);
    assert.ok(after.operations['late.send.test.late']);
    assert.deepEqual(resolve(after, { $ref: '#/components/schemas/test.late.input' }).required, ['n']);
    assert.ok(after.channels['topic.late_news']);
    assert.equal(after.channels['topic.alerts'], undefined);
    assert.equal(after.operations['topic.alerts.publish'], undefined);
    // A gateway allowing test.* now offers the new service too.
    assert.ok(after.operations['zato-gw.invoke.test.late']);
    assert.equal(before.operations['zato-gw.invoke.test.late'], undefined);
    assert.deepEqual((await parse(after)).errors, []);
  });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? '', SWITCHBOARD_ADMIN_URL: server.adminUrl, SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN } },
      (err, stdout, stderr) => resolveRun({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('switchboard export --asyncapi', () => {
  test('prints the document the API serves, or writes it with -o', async () => {
    const printed = await cli(['export', '--asyncapi']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(JSON.parse(printed.stdout), await fetchDocument());
    const file = join(server.dir, 'asyncapi.json');
    const written = await cli(['export', '--asyncapi', '-o', file]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /wrote the AsyncAPI document to/);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), await fetchDocument());
    const help = await cli(['export', '--help']);
    assert.match(help.stdout, /--asyncapi/);
  });

  test('a wrong token is the API error, exit 1', async () => {
    const run = await new Promise<Run>((resolveRun) =>
      execFile(
        process.execPath,
        [bin, 'export', '--asyncapi'],
        { env: { PATH: process.env.PATH ?? '', SWITCHBOARD_ADMIN_URL: server.adminUrl, SWITCHBOARD_ADMIN_TOKEN: 'wrong-token' } },
        (err, stdout, stderr) => resolveRun({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /\[unauthorized\]/);
    assert.equal(run.stdout, '');
  });
});

describe('buildAsyncApi (pure)', () => {
  const base: AsyncApiInput = {
    version: '9.9.9',
    serverName: 'unit',
    security: [],
    services: [{ name: 'svc', io: { inputRequired: [text('a')] } }],
    topics: [],
    channels: [],
  };
  const entry = (name: string, address: string) => ({
    name,
    address,
    protocol: 'zato' as const,
    dataFormat: 'text' as const,
    service: 'svc',
    security: null,
    gatewayServices: [],
    isActive: true,
  });

  test('the same configuration gives the same document, whatever the order it is listed in', () => {
    const channels = [entry('b', 'ws://127.0.0.1:1/b'), entry('a', 'ws://127.0.0.1:1/a')];
    const one = buildAsyncApi({ ...base, channels });
    const two = buildAsyncApi({ ...base, channels: [...channels].reverse() });
    assert.equal(JSON.stringify(one), JSON.stringify(two));
    assert.deepEqual(Object.keys(one.channels), ['a', 'b']);
    assert.equal(one.info.version, '9.9.9');
  });

  test('names that are not AsyncAPI keys get distinct keys; references point at what exists', async () => {
    const doc = buildAsyncApi({
      ...base,
      channels: [
        entry('a b', 'ws://[::1]:5/x'),
        entry('a_b', 'ws://127.0.0.1:5/y'),
        { ...entry('off', 'ws://h:6/z'), isActive: false },
      ],
      topics: [{ name: '/a b', isActive: true, hasGd: true, access: [{ channel: 'a b', publish: true, subscribe: false }] }],
    }) as unknown as Json;
    assert.deepEqual(Object.keys(doc.servers), ['a_b', 'a_b-2', 'off']);
    assert.equal(doc.servers.a_b.title, 'a b');
    assert.equal(doc.servers.a_b.host, '[::1]:5');
    assert.match(doc.channels.off.description, /Inactive/);
    assert.deepEqual(doc.channels['topic.a_b'].servers, [{ $ref: '#/servers/a_b' }]);
    assert.deepEqual(doc.channels['topic.a_b']['x-switchboard-subscribers'], []);
    assert.deepEqual((await parse(doc)).errors, []);
  });
});
