import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient } from './helpers/wsx-client.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

const bin = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'switchboard.js');

// A fresh server per test: --prune deletes whatever the file does not name, so tests must not share objects.
let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'switchboard-apply-'));
});
afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH ?? '', SWITCHBOARD_ADMIN_URL: server.adminUrl, SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

type Entry = Record<string, unknown> & { name: string };
interface ConfigFile {
  security?: Entry[];
  channels?: Entry[];
  outgoing?: Entry[];
  topics?: Entry[];
}

/** A file with one of each kind; the zato channel uses the security definition, so order matters. */
async function sampleConfig(): Promise<ConfigFile> {
  return {
    security: [{ name: 'partners', type: 'basic_auth', username: 'acme', password: 's3cret' }],
    channels: [
      { name: 'echo', address: `ws://127.0.0.1:${await freePort()}/echo`, service: 'zato.helpers.echo', protocol: 'plain' },
      { name: 'secured', address: `ws://127.0.0.1:${await freePort()}/secured`, service: 'zato.ping', security: 'partners' },
    ],
    outgoing: [{ name: 'upstream', address: `ws://127.0.0.1:${await freePort()}/up`, isZato: true, isActive: false }],
    topics: [{ name: '/apply/orders', maxDepthGd: 500 }],
  };
}

async function writeConfig(config: unknown, name = 'config.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

const count = async (path: string): Promise<number> => ((await server.api('GET', path)).body as unknown[]).length;

async function countAll(): Promise<number[]> {
  return Promise.all(['/api/security', '/api/channels/wsx', '/api/outgoing/wsx', '/api/pubsub/topics'].map(count));
}

describe('switchboard apply and export', () => {
  test('apply creates everything, security first — and the channel is live', async () => {
    const config = await sampleConfig();
    const run = await cli(['apply', '-f', await writeConfig(config)]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'created security partners',
        'created channel echo',
        'created channel secured',
        'created outgoing upstream',
        'created topic /apply/orders',
        '5 created, 0 updated, 0 deleted, 0 unchanged',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(run.stdout + run.stderr, /s3cret/);
    const client = await TestClient.connect(config.channels![0]!.address as string);
    client.send('hi');
    assert.equal(await client.nextText(), 'hi');
    client.close();
    const secured = await server.api('GET', '/api/channels/wsx/secured');
    assert.equal(secured.body.runtime.state, 'listening');
    assert.equal(secured.body.security, 'partners');
    assert.equal((await server.api('GET', `/api/pubsub/topics/${encodeURIComponent('/apply/orders')}`)).body.maxDepthGd, 500);
  });

  test('applying the same file twice: the second run changes nothing and exits 0', async () => {
    const file = await writeConfig(await sampleConfig());
    assert.equal((await cli(['apply', '-f', file])).code, 0);
    const again = await cli(['apply', '-f', file]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '0 created, 0 updated, 0 deleted, 5 unchanged\n');
    // The password cannot be compared (the API never returns it), so it is not sent — and apply says so.
    assert.match(again.stderr, /secret of security partners was not sent.*--force-secrets/);
    const verbose = await cli(['apply', '-f', file, '--verbose']);
    assert.match(verbose.stdout, /^unchanged channel echo$/m);
    assert.match(verbose.stdout, /^unchanged security partners$/m);
    const json = JSON.parse((await cli(['apply', '-f', file, '--json'])).stdout);
    assert.deepEqual({ ...json, unchanged: json.unchanged.length }, { created: [], updated: [], deleted: [], unchanged: 5 });
    const forced = await cli(['apply', '-f', file, '--force-secrets']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^updated security partners \(fields: password\)$/m);
    assert.match(forced.stdout, /^0 created, 1 updated, 0 deleted, 4 unchanged$/m);
  });

  test('a changed field is reported as updated, with that field; fields not in the file are kept', async () => {
    const config = await sampleConfig();
    assert.equal((await cli(['apply', '-f', await writeConfig(config)])).code, 0);
    config.topics![0]!.maxDepthGd = 750;
    config.channels![0]!.pingInterval = 5;
    config.outgoing![0]!.reconnect = { max: 60 };
    const run = await cli(['apply', '-f', await writeConfig(config)]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^updated channel echo \(fields: pingInterval\)$/m);
    assert.match(run.stdout, /^updated outgoing upstream \(fields: reconnect\)$/m);
    assert.match(run.stdout, /^updated topic \/apply\/orders \(fields: maxDepthGd\)$/m);
    assert.match(run.stdout, /^0 created, 3 updated, 0 deleted, 2 unchanged$/m);
    const topic = (await server.api('GET', `/api/pubsub/topics/${encodeURIComponent('/apply/orders')}`)).body;
    assert.equal(topic.maxDepthGd, 750);
    const echo = (await server.api('GET', '/api/channels/wsx/echo')).body;
    assert.equal(echo.pingInterval, 5);
    assert.equal(echo.protocol, 'plain');
    const upstream = (await server.api('GET', '/api/outgoing/wsx/upstream')).body;
    assert.deepEqual(
      upstream.reconnect,
      { initial: 0.5, factor: 2, max: 60, resetAfter: 5 },
      'a partial nested object is merged',
    );
    assert.equal(
      (await cli(['apply', '-f', await writeConfig(config)])).stdout,
      '0 created, 0 updated, 0 deleted, 5 unchanged\n',
    );
  });

  test('export then apply changes nothing; export has no live fields or secrets and is sorted by name', async () => {
    const config = await sampleConfig();
    config.topics!.push({ name: '/apply/a-first' });
    assert.equal((await cli(['apply', '-f', await writeConfig(config)])).code, 0);
    const exported = join(dir, 'exported.json');
    const written = await cli(['export', '-o', exported]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /wrote 6 objects to/);
    const text = await readFile(exported, 'utf8');
    assert.equal((await cli(['export'])).stdout, text, 'stdout and -o give the same file');
    const file = JSON.parse(text) as ConfigFile;
    assert.deepEqual(Object.keys(file), ['security', 'channels', 'outgoing', 'topics']);
    assert.doesNotMatch(text, /"runtime"|"depth"|"password"|"secret"|s3cret/);
    assert.deepEqual(
      file.topics!.map((t) => t.name),
      ['/apply/a-first', '/apply/orders'],
    );
    assert.deepEqual(
      file.channels!.map((c) => c.name),
      ['echo', 'secured'],
    );
    assert.deepEqual(file.security, [{ name: 'partners', type: 'basic_auth', username: 'acme' }]);
    const run = await cli(['apply', '-f', exported, '--prune']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '0 created, 0 updated, 0 deleted, 6 unchanged\n');
    assert.equal(run.stderr, '', 'no secret in the file, so no note about one');
  });

  test('--dry-run reports what would change and writes nothing', async () => {
    const config = await sampleConfig();
    assert.equal((await cli(['apply', '-f', await writeConfig({ topics: config.topics })])).code, 0);
    config.topics![0]!.maxDepthGd = 9;
    const run = await cli(['apply', '-f', await writeConfig(config), '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^created channel echo$/m);
    assert.match(run.stdout, /^updated topic \/apply\/orders \(fields: maxDepthGd\)$/m);
    assert.match(run.stdout, /^4 created, 1 updated, 0 deleted, 0 unchanged \(dry run: nothing was written\)$/m);
    assert.deepEqual(await countAll(), [0, 0, 0, 1]);
    assert.equal((await server.api('GET', `/api/pubsub/topics/${encodeURIComponent('/apply/orders')}`)).body.maxDepthGd, 500);
    const pruned = await cli(['apply', '-f', await writeConfig({ topics: [] }), '--prune', '--dry-run']);
    assert.match(pruned.stdout, /^deleted topic \/apply\/orders$/m);
    assert.deepEqual(await countAll(), [0, 0, 0, 1]);
  });

  test('--prune deletes objects of the kinds the file lists that it does not name; without it nothing is deleted', async () => {
    const config = await sampleConfig();
    assert.equal((await cli(['apply', '-f', await writeConfig(config)])).code, 0);
    assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/apply/extra' })).status, 201);
    assert.equal((await server.api('POST', '/api/security', { name: 'spare', type: 'apikey', secret: 'k' })).status, 201);
    const file = await writeConfig(config);
    const kept = await cli(['apply', '-f', file]);
    assert.equal(kept.stdout, '0 created, 0 updated, 0 deleted, 5 unchanged\n');
    // Channels are not in this file, so --prune leaves them alone even though the file names none.
    const partial = await cli(['apply', '-f', await writeConfig({ topics: config.topics }, 'topics.json'), '--prune']);
    assert.equal(partial.code, 0, partial.stderr);
    assert.equal(partial.stdout, 'deleted topic /apply/extra\n0 created, 0 updated, 1 deleted, 1 unchanged\n');
    config.channels = config.channels!.slice(0, 1);
    const pruned = await cli(['apply', '-f', await writeConfig(config), '--prune', '--json']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(JSON.parse(pruned.stdout).deleted, [
      { kind: 'channel', name: 'secured' },
      { kind: 'security', name: 'spare' },
    ]);
    assert.deepEqual(await countAll(), [1, 1, 1, 1]);
  });

  test('--prune of a security definition still in use: the API refuses (409), apply says which and exits 1', async () => {
    const config = await sampleConfig();
    assert.equal((await cli(['apply', '-f', await writeConfig(config)])).code, 0);
    const run = await cli(['apply', '-f', await writeConfig({ security: [] }), '--prune']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot delete security partners: Used by channel secured \[security_in_use\]/);
    assert.equal((await server.api('GET', '/api/security/partners')).status, 200);
  });

  test('a file that is not valid JSON, or has an unknown key, exits 2 and writes nothing', async () => {
    const broken = await cli(['apply', '-f', await writeConfig('{"topics": [{"name": "/t"}')]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /config\.json is not valid JSON/);
    const config = await sampleConfig();
    const unknown = await cli(['apply', '-f', await writeConfig({ ...config, chanels: [] })]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown top-level key "chanels" \(expected security, channels, outgoing, topics\)/);
    const nameless = await cli(['apply', '-f', '-'], JSON.stringify({ topics: [{ maxDepthGd: 5 }] }));
    assert.equal(nameless.code, 2);
    assert.match(nameless.stderr, /topics\[0\] must be an object with a "name"/);
    assert.equal((await cli(['apply', '-f', join(dir, 'missing.json')])).code, 2);
    assert.equal((await cli(['apply'])).code, 2);
    assert.deepEqual(await countAll(), [0, 0, 0, 0]);
  });

  test('an API validation error stops the run with exit 1, naming the object and the field', async () => {
    const config = await sampleConfig();
    config.channels![1]!.address = 'http://127.0.0.1:1/nope';
    const run = await cli(['apply', '-f', await writeConfig(config)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot create channel secured: The address must start with ws:\/\/ .*\(field: address\)/);
    assert.equal(run.stdout, 'created security partners\ncreated channel echo\n', 'what came before was done; nothing after');
    const typo = await cli(['apply', '-f', await writeConfig({ topics: [{ name: '/apply/orders', maxDepth: 5 }] })]);
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /cannot create topic \/apply\/orders: Unknown field: maxDepth \[invalid_body\] \(field: maxDepth\)/,
    );
  });

  test("issue 14's fields through apply: rates, compression and topic patterns live on a channel, TLS on an outgoing, a jwt definition", async () => {
    const channel = {
      name: 'guarded',
      address: `ws://127.0.0.1:${await freePort()}/guarded`,
      service: 'zato.helpers.echo',
      protocol: 'plain',
      messageRate: 0.001,
      messageBurst: 1,
      compression: true,
      topicPatterns: ['pub=/apply/*'],
    };
    const config: ConfigFile = {
      security: [
        {
          name: 'idp',
          type: 'jwt',
          jwksUrl: 'https://idp.example.com/jwks',
          issuer: 'https://idp.example.com',
          audience: ['sb'],
        },
      ],
      channels: [channel],
      outgoing: [{ name: 'remote', address: 'wss://127.0.0.1:1/r', isActive: false, tlsRejectUnauthorized: false }],
    };
    const run = await cli(['apply', '-f', await writeConfig(config)]);
    assert.equal(run.code, 0, run.stderr);
    const limited = await TestClient.connect(channel.address);
    assert.match(limited.ws.extensions, /permessage-deflate/);
    limited.send('one');
    limited.send('two');
    assert.equal(await limited.nextText(), 'one');
    assert.match(await limited.nextText(), /rate_limited/);
    limited.close();
    const view = (await server.api('GET', '/api/channels/wsx/guarded')).body;
    assert.deepEqual(view.topicPatterns, ['pub=/apply/*']);
    assert.equal((await server.api('GET', '/api/outgoing/wsx/remote')).body.tlsRejectUnauthorized, false);
    const idp = (await server.api('GET', '/api/security/idp')).body;
    assert.deepEqual([idp.keyKind, idp.issuer, idp.audience], ['jwksUrl', 'https://idp.example.com', ['sb']]);

    // Lifted by the next apply: a new connection is no longer limited nor compressed.
    const lifted = { ...config, channels: [{ ...channel, messageRate: null, messageBurst: null, compression: false }] };
    const again = await cli(['apply', '-f', await writeConfig(lifted)]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^updated channel guarded \(fields: .*messageRate.*\)$/m);
    const free = await TestClient.connect(channel.address);
    assert.equal(free.ws.extensions, '');
    for (const text of ['a', 'b', 'c']) free.send(text);
    for (const text of ['a', 'b', 'c']) assert.equal(await free.nextText(), text);
    free.close();
  });
});
