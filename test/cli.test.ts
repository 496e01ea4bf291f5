import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient } from './helpers/wsx-client.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

const bin = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'switchboard.js');
let server: TestServer;

before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          SWITCHBOARD_ADMIN_URL: server.adminUrl,
          SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN,
          ...env,
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('the switchboard CLI', () => {
  test('channel create, list, get, update and delete — and the channel is live', async () => {
    const address = `ws://127.0.0.1:${await freePort()}/cli`;
    const created = await cli([
      'channel',
      'create',
      '--name',
      'cli-chan',
      '--address',
      address,
      '--service',
      'zato.helpers.echo',
      '--protocol',
      'plain',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created channel cli-chan/);
    const client = await TestClient.connect(address);
    client.send('hi');
    assert.equal(await client.nextText(), 'hi');
    client.close();
    const list = await cli(['channel', 'list']);
    assert.match(list.stdout, /^NAME\s+ADDRESS/m);
    assert.match(list.stdout, /cli-chan.*listening/);
    const json = JSON.parse((await cli(['channel', 'get', 'cli-chan', '--json'])).stdout);
    assert.equal(json.address, address);
    assert.equal((await cli(['channel', 'update', 'cli-chan', '--service', 'zato.ping', '--ping-interval', '5'])).code, 0);
    const updated = JSON.parse((await cli(['channel', 'get', 'cli-chan', '--json'])).stdout);
    assert.equal(updated.service, 'zato.ping');
    assert.equal(updated.pingInterval, 5);
    assert.equal(updated.protocol, 'plain', 'flags not given are kept');
    assert.equal((await cli(['channel', 'delete', 'cli-chan'])).code, 0);
    assert.equal((await cli(['channel', 'get', 'cli-chan'])).code, 1);
  });

  test('security create (password from stdin), list, delete — the secret is never printed', async () => {
    const created = await cli(
      ['security', 'create', '--name', 'cli-sec', '--type', 'basic_auth', '--username', 'u', '--password-stdin'],
      {},
      'hunter2\n',
    );
    assert.equal(created.code, 0, created.stderr);
    const list = await cli(['security', 'list', '--json']);
    assert.doesNotMatch(list.stdout + created.stdout, /hunter2/);
    assert.equal(JSON.parse(list.stdout).find((s: { name: string }) => s.name === 'cli-sec').username, 'u');
    assert.equal((await cli(['security', 'delete', 'cli-sec'])).code, 0);
  });

  test('service list and invoke', async () => {
    assert.match((await cli(['service', 'list'])).stdout, /zato\.helpers\.echo/);
    const invoked = await cli(['service', 'invoke', 'zato.helpers.echo', '--request', '{"a":[1,2]}']);
    assert.equal(invoked.code, 0);
    assert.deepEqual(JSON.parse(invoked.stdout), { a: [1, 2] });
    const fromStdin = await cli(['service', 'invoke', 'zato.helpers.echo', '--request', '-'], {}, '{"b":true}');
    assert.deepEqual(JSON.parse(fromStdin.stdout), { b: true });
  });

  test('service get, and stats with the dashboard totals', async () => {
    const got = await cli(['service', 'get', 'zato.helpers.echo', '--json']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).name, 'zato.helpers.echo');
    const missing = await cli(['service', 'get', 'no.such.service']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\[service_not_found\]/);
    const stats = await cli(['stats']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /connections/);
    assert.match(stats.stdout, /serviceCalls/);
    const json = JSON.parse((await cli(['stats', '--json'])).stdout);
    assert.equal(typeof json.messagesIn, 'number');
    assert.ok(Array.isArray(json.channels));
  });

  test('cluster: this server, as the housekeeper, in a table (and the API answer with --json)', async () => {
    const table = await cli(['cluster']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^(sqlite|postgres), (standalone|clustered); housekeeping: /);
    assert.match(table.stdout, /NAME\s+SERVERID\s+HOST\s+PID\s+VERSION\s+STARTEDAT\s+HEARTBEATAGE\s+CLIENTS/);
    const line = table.stdout.split('\n').find((l) => l.startsWith(`${server.serverName} `));
    assert.ok(line, table.stdout);
    assert.match(line, /\bsrv\.[0-9a-f]{16}\b.*\b\d+\.\ds\b.*\btrue\s+true$/);
    const json = JSON.parse((await cli(['cluster', '--json'])).stdout);
    assert.equal(json.self, server.serverName);
    assert.equal(json.servers.length, 1);
  });

  test('outgoing and topic commands', async () => {
    assert.equal((await cli(['topic', 'create', '--name', '/cli/t'])).code, 0);
    const published = await cli(['topic', 'publish', '/cli/t', '--data', '{"n":1}', '--priority', '8']);
    assert.match(published.stdout, /^zpsm[0-9a-f]{24}\s*$/);
    const messages = JSON.parse((await cli(['topic', 'messages', '/cli/t', '--json'])).stdout);
    assert.deepEqual(messages[0].data, { n: 1 });
    assert.equal(messages[0].priority, 8);
    const port = await freePort();
    assert.equal(
      (await cli(['outgoing', 'create', '--name', 'cli-out', '--address', `ws://127.0.0.1:${port}/x`, '--zato'])).code,
      0,
    );
    const out = JSON.parse((await cli(['outgoing', 'get', 'cli-out', '--json'])).stdout);
    assert.equal(out.isZato, true);
    assert.equal((await cli(['outgoing', 'delete', 'cli-out'])).code, 0);
  });

  test('errors: API validation (exit 1, message and field), bad token, unreachable server, bad JSON and bad usage (exit 2)', async () => {
    const invalid = await cli(['channel', 'create', '--name', 'x', '--address', 'http://nope', '--service', 's']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /must start with ws:\/\/.*\(field: address\)/);
    const unauthorized = await cli(['channel', 'list'], { SWITCHBOARD_ADMIN_TOKEN: 'wrong' });
    assert.equal(unauthorized.code, 1);
    assert.match(unauthorized.stderr, /\[unauthorized\]/);
    const unreachable = await cli(['channel', 'list'], { SWITCHBOARD_ADMIN_URL: `http://127.0.0.1:${await freePort()}` });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Cannot reach the Switchboard admin API at http:\/\/127\.0\.0\.1:\d+.*npm start/);
    const badJson = await cli(['service', 'invoke', 'zato.helpers.echo', '--request', '{oops']);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--request is not valid JSON/);
    assert.equal((await cli(['channel', 'frobnicate'])).code, 2);
    assert.equal((await cli(['channel', 'list', '--no-such-flag'])).code, 2);
    assert.equal((await cli(['nonsense'])).code, 2);
  });
});
