// JWT definitions beyond the checks of security-jwt.test.ts: every key family through create-session, what an update
// keeps and replaces, the hook service's ctx.claims, and the CLI's flags for jwt fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { Service } from '../src/index.js';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, TEST_TOKEN, waitFor, type TestServer } from './helpers/server.js';

const SECRET = 'an-hmac-secret-for-the-config-tests-0123456789';
const bin = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'switchboard.js');
let server: TestServer;

const hookCalls: Array<Record<string, unknown>> = [];
class ClaimsHook extends Service {
  static override serviceName = 'test.jwt.hook';
  handle(): void {
    hookCalls.push((this.request.payload as { ctx: Record<string, unknown> }).ctx);
  }
}

before(async () => {
  server = await startTestServer();
  server.registry.replaceSource('jwt-config-test', [{ name: ClaimsHook.serviceName, cls: ClaimsHook }]);
});
after(() => server.stop());

function hs256(claims: Record<string, unknown>, key = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
}

async function define(body: Record<string, unknown>): Promise<void> {
  const res = await server.api('POST', '/api/security', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** True when a create-session with `token` on `url` opens a session. */
async function accepted(url: string, token: string): Promise<boolean> {
  const client = await TestClient.connect(url);
  const reply = await client.createSession({ secret: token });
  client.close();
  return reply.meta.msg_type === 'zwsx.rspa';
}

describe('jwt key families through create-session', () => {
  for (const alg of ['ES256', 'ES384', 'PS256', 'EdDSA'] as const) {
    test(`${alg}: a publicKey definition accepts its tokens and refuses another key's`, async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const other = await generateKeyPair(alg, { extractable: true });
      const name = `jwt-${alg.toLowerCase()}`;
      await define({ name, type: 'jwt', publicKey: await exportSPKI(pair.publicKey) });
      const view = (await server.api('GET', `/api/security/${name}`)).body as { algorithms?: string[] };
      assert.ok(!JSON.stringify(view).includes('HS256'), 'an asymmetric key never accepts HMAC');
      const url = await createChannel(server, { name, service: 'zato.ping', security: name }, `/${name}`);
      const sign = (key: Parameters<SignJWT['sign']>[0]) => new SignJWT({ sub: 'ann' }).setProtectedHeader({ alg }).sign(key);
      assert.equal(await accepted(url, await sign(pair.privateKey)), true);
      assert.equal(await accepted(url, await sign(other.privateKey)), false);
    });
  }
});

describe('jwt definitions updated', () => {
  test('a PUT without a key keeps it (old tokens still verify) and changes the rest; a PUT with a new secret replaces it', async () => {
    await define({ name: 'jwt-upd', type: 'jwt', secret: SECRET, issuer: 'one' });
    const url = await createChannel(server, { name: 'jwt-upd', service: 'zato.ping', security: 'jwt-upd' }, '/jwt-upd');
    assert.equal(await accepted(url, await hs256({ sub: 'a', iss: 'one' })), true);

    const kept = await server.api('PUT', '/api/security/jwt-upd', { name: 'jwt-upd', type: 'jwt', issuer: 'two' });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.equal((kept.body as { keyKind: string }).keyKind, 'secret');
    await waitFor(async () => !(await accepted(url, await hs256({ sub: 'a', iss: 'one' }))), 3000, 'the new issuer applied');
    assert.equal(await accepted(url, await hs256({ sub: 'a', iss: 'two' })), true, 'the kept key still verifies');

    const NEW = 'a-second-hmac-secret-for-the-config-tests-987654';
    const replaced = await server.api('PUT', '/api/security/jwt-upd', { name: 'jwt-upd', type: 'jwt', secret: NEW });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    await waitFor(async () => !(await accepted(url, await hs256({ sub: 'a' }))), 3000, 'the old key refused');
    assert.equal(await accepted(url, await hs256({ sub: 'a' }, NEW)), true);
  });

  test('a key given as password, a username, or a key of another kind on update is a 400 naming the field', async () => {
    await define({ name: 'jwt-bad', type: 'jwt', secret: SECRET });
    for (const [body, field] of [
      [{ name: 'jwt-bad', type: 'jwt', password: SECRET }, 'password'],
      [{ name: 'jwt-bad', type: 'jwt', username: 'u' }, 'username'],
      [{ name: 'jwt-bad', type: 'jwt', secret: SECRET, jwksUrl: 'https://idp.example.com/jwks' }, 'jwksUrl'],
      [{ name: 'jwt-bad', type: 'jwt', clockTolerance: 301 }, 'clockTolerance'],
      [{ name: 'jwt-bad', type: 'jwt', algorithms: ['none'] }, 'algorithms'],
    ] as const) {
      const res = await server.api('PUT', '/api/security/jwt-bad', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal((res.body as { error: { field?: string } }).error.field?.split('/')[0], field, JSON.stringify(res.body));
    }
    const createdWithPassword = await server.api('POST', '/api/security', { name: 'jwt-pw', type: 'jwt', password: SECRET });
    assert.equal(createdWithPassword.status, 400);
  });

  test('an outgoing connection naming a jwt definition is a 400 (it has no token to send), not a reconnect loop', async () => {
    const res = await server.api('POST', '/api/outgoing/wsx', {
      name: 'out-jwt',
      address: 'ws://127.0.0.1:9/none',
      isZato: true,
      security: 'jwt-bad',
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal((res.body as { error: { field: string } }).error.field, 'security');
    assert.match((res.body as { error: { message: string } }).error.message, /jwt/);
    assert.equal((await server.api('GET', '/api/outgoing/wsx/out-jwt')).status, 404, 'nothing stored');
  });
});

describe('jwt claims reach the channel hook', () => {
  test('ctx.claims in wsx_on_connected and wsx_on_disconnected, on a zato and on a plain channel', async () => {
    await define({ name: 'jwt-hook', type: 'jwt', secret: SECRET });
    const zato = await createChannel(
      server,
      { name: 'jwt-hook-z', service: 'zato.ping', security: 'jwt-hook', hookService: ClaimsHook.serviceName },
      '/jwt-hook-z',
    );
    const plain = await createChannel(
      server,
      { name: 'jwt-hook-p', protocol: 'plain', service: 'zato.ping', security: 'jwt-hook', hookService: ClaimsHook.serviceName },
      '/jwt-hook-p',
    );
    const client = await TestClient.connect(zato);
    assert.equal((await client.createSession({ secret: await hs256({ sub: 'zed', team: 'z' }) })).meta.msg_type, 'zwsx.rspa');
    client.close();
    const ws = new WebSocket(plain, { headers: { authorization: `Bearer ${await hs256({ sub: 'pat', team: 'p' })}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.close();

    const seen = (channelName: string, hookType: string) =>
      hookCalls.find((c) => c.channelName === channelName && c.hookType === hookType);
    for (const [channelName, sub] of [
      ['jwt-hook-z', 'zed'],
      ['jwt-hook-p', 'pat'],
    ] as const) {
      for (const hookType of ['wsx_on_connected', 'wsx_on_disconnected']) {
        const ctx = await waitFor(() => seen(channelName, hookType), 3000, `${hookType} on ${channelName}`);
        assert.equal((ctx.claims as { sub?: string } | undefined)?.sub, sub, `${hookType} on ${channelName}`);
      }
    }
  });
});

describe('jwt definitions from the CLI', () => {
  const cli = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [bin, ...args],
        { env: { PATH: process.env.PATH ?? '', SWITCHBOARD_ADMIN_URL: server.adminUrl, SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });

  test('create with --secret-stdin and list flags, update keeps the key, the key is never printed', async () => {
    const created = await cli(
      [
        'security',
        'create',
        '--name',
        'cli-jwt',
        '--type',
        'jwt',
        '--secret-stdin',
        '--issuer',
        'idp',
        '--audience',
        'a1',
        '--audience',
        'a2',
        '--algorithms',
        'HS256',
        '--algorithms',
        'HS512',
        '--clock-tolerance',
        '5',
        '--json',
      ],
      `${SECRET}\n`,
    );
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.deepEqual(
      [view.issuer, view.audience, view.algorithms, view.clockTolerance, view.keyKind],
      ['idp', ['a1', 'a2'], ['HS256', 'HS512'], 5, 'secret'],
    );
    const url = await createChannel(server, { name: 'cli-jwt', service: 'zato.ping', security: 'cli-jwt' }, '/cli-jwt');
    assert.equal(await accepted(url, await hs256({ sub: 's', iss: 'idp', aud: 'a2' })), true, 'the key from stdin verifies');

    const updated = await cli(['security', 'update', 'cli-jwt', '--clock-tolerance', '0', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal((JSON.parse(updated.stdout) as { clockTolerance: number }).clockTolerance, 0);
    assert.equal(await accepted(url, await hs256({ sub: 's', iss: 'idp', aud: 'a1' })), true, 'the key was kept');
    const shown = await cli(['security', 'get', 'cli-jwt', '--json']);
    assert.doesNotMatch(created.stdout + updated.stdout + shown.stdout, new RegExp(SECRET));

    const both = await cli(['security', 'update', 'cli-jwt', '--secret-stdin', '--password-stdin'], 'x\n');
    assert.equal(both.code, 2, 'a usage error');
    assert.match(both.stderr, /not both/);
    const badAlg = await cli(['security', 'update', 'cli-jwt', '--algorithms', 'none']);
    assert.notEqual(badAlg.code, 0);
    assert.match(badAlg.stderr, /algorithms/);
  });

  test('export then apply of a jwt definition: unchanged as exported; an edited issuer is applied and the key kept', async () => {
    await define({ name: 'cli-jwt-x', type: 'jwt', secret: SECRET, issuer: 'first' });
    const url = await createChannel(server, { name: 'cli-jwt-x', service: 'zato.ping', security: 'cli-jwt-x' }, '/cli-jwt-x');
    const dir = await mkdtemp(join(tmpdir(), 'sb-jwt-export-'));
    try {
      const file = join(dir, 'config.json');
      assert.equal((await cli(['export', '-o', file])).code, 0);
      const config = JSON.parse(await readFile(file, 'utf8')) as { security: Array<Record<string, unknown>> };
      const exported = config.security.find((s) => s.name === 'cli-jwt-x')!;
      assert.equal(exported.keyKind, undefined, 'a view-only field is not exported');
      const same = await cli(['apply', '-f', file]);
      assert.equal(same.code, 0, same.stderr);
      assert.doesNotMatch(same.stdout, /update security cli-jwt-x/);
      exported.issuer = 'second';
      await writeFile(file, JSON.stringify(config));
      const applied = await cli(['apply', '-f', file]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(((await server.api('GET', '/api/security/cli-jwt-x')).body as { issuer: string }).issuer, 'second');
      await waitFor(async () => accepted(url, await hs256({ sub: 's', iss: 'second' })), 3000, 'the stored key verifies');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
