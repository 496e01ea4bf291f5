// The AES key for outgoing credentials can live away from the database: SWITCHBOARD_SECRET_KEY (hex or base64)
// or a key file (SWITCHBOARD_SECRET_KEY_FILE); a wrong or malformed key is a clear error, never a cryptic one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { startServer, type RunningServer, type Settings } from '../src/server/index.js';
import { loadSettings } from '../src/server/settings.js';
import { dropTestDb, freePort, testDb, waitFor } from './helpers/server.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    await dropTestDb(dir);
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-key-'));
  dirs.push(dir);
  return dir;
}

/** A logger that keeps its lines, to check what start-up reported. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream) as Logger, lines };
}

function start(
  dir: string,
  overrides: Partial<Settings> = {},
  logger: Logger = capturingLogger().logger,
): Promise<RunningServer> {
  return startServer(
    {
      dataDir: dir,
      servicesDir: join(dir, 'services'),
      adminHost: '127.0.0.1',
      adminPort: 0,
      adminToken: 'test-token-test-token-123',
      demo: false,
      ...testDb(dir),
      ...overrides,
    },
    logger,
  );
}

/** A channel secured by a basic_auth definition, and an outgoing connection logging in to it with the same one. */
async function createSecuredLoop(server: RunningServer): Promise<void> {
  await server.security.create({ name: 'partner', type: 'basic_auth', username: 'acme', password: 'correct horse' });
  const port = await freePort();
  await server.channels.create({
    name: 'secured',
    address: `ws://127.0.0.1:${port}/ws`,
    service: 'zato.ping',
    security: 'partner',
  });
  await server.outgoing.create({
    name: 'to-secured',
    address: `ws://127.0.0.1:${port}/ws`,
    isZato: true,
    security: 'partner',
    reconnect: { initial: 0.02, max: 0.1 },
  });
}

const outState = (server: RunningServer) => server.outgoingManager.state('to-secured') as { state: string; lastError?: string };

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

describe('the secret key for outgoing credentials', () => {
  test('SWITCHBOARD_SECRET_KEY: no key file beside the database; a restart with the same key logs in again', async () => {
    const dir = await tempDir();
    const key = randomBytes(32).toString('hex');
    await withEnv({ SWITCHBOARD_SECRET_KEY: key }, async () => {
      const first = await start(dir);
      try {
        await createSecuredLoop(first);
        await waitFor(() => outState(first).state === 'connected', 5000, 'the first login');
      } finally {
        await first.close();
      }
      assert.equal(existsSync(join(dir, 'secret-key')), false, 'the key is not written beside the database');
      const second = await start(dir);
      try {
        await waitFor(() => outState(second).state === 'connected', 5000, 'the login after the restart');
      } finally {
        await second.close();
      }
    });
  });

  test('a restart with a different key: the server starts, logs the problem once naming the definitions, the connection says why', async () => {
    const dir = await tempDir();
    const first = await start(dir, { secretKey: randomBytes(32).toString('hex') });
    try {
      await createSecuredLoop(first);
      await waitFor(() => outState(first).state === 'connected', 5000, 'the first login');
    } finally {
      await first.close();
    }
    const { logger, lines } = capturingLogger();
    const second = await start(dir, { secretKey: randomBytes(32).toString('base64') }, logger);
    try {
      const health = await fetch(`${second.adminUrl}/api/health`);
      assert.equal(health.status, 200, 'the server is up');
      const reported = lines.filter((l) => l.code === 'secret_key_mismatch');
      assert.equal(reported.length, 1);
      assert.deepEqual(reported[0]!.definitions, ['partner']);
      assert.match(String(reported[0]!.msg), /encrypted under another key than the one from SWITCHBOARD_SECRET_KEY/);
      await waitFor(
        () => /partner was encrypted under another key/.test(outState(second).lastError ?? ''),
        5000,
        'the reason in lastError',
      );
      assert.notEqual(outState(second).state, 'connected');
      assert.match(outState(second).lastError ?? '', /set the password of partner again/);
      // Setting the password again (re-encrypting under the new key) is the way out.
      await second.security.update('partner', {
        name: 'partner',
        type: 'basic_auth',
        username: 'acme',
        password: 'correct horse',
      });
      await waitFor(() => outState(second).state === 'connected', 5000, 'the login after the password was set again');
    } finally {
      await second.close();
    }
  });

  test('the key as base64 works like hex; a malformed key stops start-up with an error naming the setting, never the key', async () => {
    const dir = await tempDir();
    const server = await start(dir, { secretKey: randomBytes(32).toString('base64') });
    await server.close();
    for (const bad of [
      'abc',
      'z'.repeat(64),
      randomBytes(16).toString('hex'),
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('hex'),
    ]) {
      await assert.rejects(start(await tempDir(), { secretKey: bad }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid_secret_key');
        assert.match(err.message, /SWITCHBOARD_SECRET_KEY .*must be a 32-byte key: 64 hex characters or 44 base64 characters/);
        assert.ok(!err.message.includes(bad), 'the key is not echoed');
        return true;
      });
    }
  });

  test('SWITCHBOARD_SECRET_KEY_FILE: the key is read from there; a missing or malformed file is an error naming it', async () => {
    const dir = await tempDir();
    const keyDir = await tempDir();
    const keyFile = join(keyDir, 'switchboard.key');
    await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    assert.equal(loadSettings({}, { SWITCHBOARD_SECRET_KEY_FILE: keyFile }, dir).secretKeyFile, keyFile);
    await withEnv({ SWITCHBOARD_SECRET_KEY_FILE: keyFile, SWITCHBOARD_SECRET_KEY: undefined }, async () => {
      const first = await start(dir);
      try {
        await createSecuredLoop(first);
        await waitFor(() => outState(first).state === 'connected', 5000, 'the login');
      } finally {
        await first.close();
      }
    });
    assert.equal(existsSync(join(dir, 'secret-key')), false, 'no key generated beside the database');
    const second = await start(dir, { secretKeyFile: keyFile });
    try {
      await waitFor(() => outState(second).state === 'connected', 5000, 'the login after the restart');
    } finally {
      await second.close();
    }
    const missing = join(keyDir, 'no-such.key');
    await assert.rejects(start(await tempDir(), { secretKeyFile: missing }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'invalid_secret_key');
      assert.match(err.message, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*does not exist`));
      return true;
    });
    const garbled = join(keyDir, 'garbled.key');
    await writeFile(garbled, 'not a key\n');
    await assert.rejects(
      start(await tempDir(), { secretKeyFile: garbled }),
      /The secret key file .*garbled\.key must be a 32-byte key/,
    );
  });

  test('without either, the key is generated once into $dataDir/secret-key with mode 0600, and kept', async () => {
    const dir = await tempDir();
    await withEnv({ SWITCHBOARD_SECRET_KEY: undefined, SWITCHBOARD_SECRET_KEY_FILE: undefined }, async () => {
      await (await start(dir)).close();
      const file = join(dir, 'secret-key');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const key = await readFile(file, 'utf8');
      assert.match(key, /^[0-9a-f]{64}\n$/);
      await (await start(dir)).close();
      assert.equal(await readFile(file, 'utf8'), key, 'not regenerated');
    });
  });
});
