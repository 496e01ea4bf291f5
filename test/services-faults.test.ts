// Issue 10, item 7: a service cannot take the server down. Errors escaping service code outside handle(), a file
// whose top-level await never settles, a service that blocks the event loop, and a file whose import killed the
// process. Uncaught errors and kills are tried in child processes (`node dist/src/server/main.js`): node:test
// counts any uncaught error in its own process as a failure, and a kill must not take the test runner with it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, loadSettings } from '../src/index.js';
import { dropTestDb, freePort, startTestServer, testDbEnv, waitFor } from './helpers/server.js';
import { TestClient } from './helpers/wsx-client.js';

const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src');
const MAIN = join(DIST, 'server', 'main.js');
const TOKEN = 'services-faults-admin-token-0123456789';
const dirs: string[] = [];
const children = new Set<ChildProcess>();

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    await dropTestDb(dir);
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-faults-'));
  dirs.push(dir);
  await mkdir(join(dir, 'services'), { recursive: true });
  return dir;
}

/** A server in a child process; `output` collects its stdout and stderr. */
interface Child {
  readonly child: ChildProcess;
  readonly adminUrl: string;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnServer(dir: string, adminPort: number, env: Record<string, string> = {}, args: string[] = [MAIN]): Child {
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: join(dir, 'data'),
      SWITCHBOARD_SERVICES_DIR: join(dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: String(adminPort),
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      SWITCHBOARD_DEMO: '0',
      SWITCHBOARD_LOG_LEVEL: 'warn',
      ...testDbEnv(dir),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, adminUrl: `http://127.0.0.1:${adminPort}`, output: () => output, exited };
}

async function untilHealthy(server: Child, timeoutMs = 30_000): Promise<void> {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void server.exited.then((e) => (exit = e));
  await waitFor(
    async () => {
      if (exit) throw new Error(`The server exited (${exit.code ?? exit.signal}) before it answered:\n${server.output()}`);
      return (await fetch(`${server.adminUrl}/api/health`).catch(() => undefined))?.ok;
    },
    timeoutMs,
    'the server to answer /api/health',
  );
}

async function api(server: Child, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(server.adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function metric(server: Child, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const uncaught = (service: string, kind = 'exception') =>
  `switchboard_service_uncaught_errors_total{service="${service}",kind="${kind}"}`;

async function deploymentOf(
  server: Child,
  file: string,
): Promise<{ ok: boolean; error?: string; code?: string; services: string[] } | undefined> {
  return (
    (await api(server, 'GET', '/api/services/deployments')).body as Array<{ file: string; ok: boolean; services: string[] }>
  ).find((d) => d.file.endsWith(file));
}

// Each service leaves something behind that throws after handle() has answered; one file each, as services are
// usually deployed (a file's stack then names the service even without serviceScopes).
const LEAVES: Record<string, string> = {
  'faults.timer': `setTimeout(() => { throw new Error('from a timer'); }, 1);`,
  'faults.interval': `const i = setInterval(() => { clearInterval(i); throw new TypeError('from an interval'); }, 1);`,
  'faults.immediate': `setImmediate(() => { throw new RangeError('from setImmediate'); });`,
  'faults.next-tick': `process.nextTick(() => { throw new Error('from nextTick'); });`,
  'faults.microtask': `queueMicrotask(() => { throw new Error('from queueMicrotask'); });`,
  'faults.emitter': `const e = new EventEmitter(); setTimeout(() => e.emit('error', new Error('an error event nobody listens to')), 1);`,
  'faults.stream': `const r = new Readable({ read() { this.destroy(new Error('from a stream')); } }); r.on('data', () => {});`,
  'faults.rejection': `void Promise.reject(new Error('a rejection never awaited'));`,
  'faults.async-rejection': `setTimeout(async () => { throw new Error('from an async timer callback'); }, 1);`,
  // Errors whose stack does not reach the service's code: Node's own (a missing file), and a thrown string.
  'faults.fs-stream': `createReadStream('/no/such/switchboard/file').on('data', () => {});`,
  'faults.not-an-error': `setTimeout(() => { throw 'a string'; }, 1);`,
};
const serviceFile = (name: string, leave: string) => `
import { Service } from 'switchboard';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
export class Leaving extends Service {
  static serviceName = ${JSON.stringify(name)};
  handle() { ${leave} this.response.payload = 'answered'; }
}
`;
// Two services in one file: a timer's stack names the file, not which of the two.
const TWO_IN_ONE = `
import { Service } from 'switchboard';
export class First extends Service { static serviceName = 'faults.first'; handle() { setTimeout(() => { throw new Error('from one of two'); }, 1); } }
export class Second extends Service { static serviceName = 'faults.second'; handle() {} }
`;
const STORM = `
import { Service } from 'switchboard';
export class Storm extends Service {
  static serviceName = 'faults.storm';
  handle() { let n = 0; const i = setInterval(() => { if (++n === 300) clearInterval(i); throw new Error('storm ' + n); }, 0); }
}
`;
const BLOCK = `
import { Service } from 'switchboard';
export class Block extends Service {
  static serviceName = 'faults.block';
  handle() { const end = Date.now() + 800; while (Date.now() < end) {} this.response.payload = 'unblocked'; }
}
`;
const TOP_LEVEL = `
import { Service } from 'switchboard';
setTimeout(() => { throw new Error('from a timer set at the top level'); }, 1);
export class Quiet extends Service { static serviceName = 'faults.quiet'; handle() { this.response.payload = 'quiet'; } }
`;
// By their stack, or by name with serviceScopes.
const ATTRIBUTED: Array<[string, string]> = [
  ['faults.timer', 'exception'],
  ['faults.interval', 'exception'],
  ['faults.immediate', 'exception'],
  ['faults.next-tick', 'exception'],
  ['faults.microtask', 'exception'],
  ['faults.emitter', 'exception'],
  ['faults.stream', 'exception'],
  ['faults.rejection', 'rejection'],
  ['faults.async-rejection', 'rejection'],
];
const UNTRACEABLE = ['faults.fs-stream', 'faults.not-an-error'];

async function faultyServer(
  env: Record<string, string> = {},
  args?: string[],
): Promise<{ server: Child & { servicesDir: string }; channelUrl: string }> {
  const dir = await tempDir();
  for (const [name, leave] of Object.entries(LEAVES))
    await writeFile(join(dir, 'services', `${name.replace('.', '-')}.ts`), serviceFile(name, leave));
  await writeFile(join(dir, 'services', 'two-in-one.ts'), TWO_IN_ONE);
  await writeFile(join(dir, 'services', 'block.ts'), BLOCK);
  await writeFile(join(dir, 'services', 'storm.ts'), STORM);
  await writeFile(join(dir, 'services', 'top-level.ts'), TOP_LEVEL);
  const server = Object.assign(spawnServer(dir, await freePort(), { SWITCHBOARD_STALL_WARN_MS: '200', ...env }, args), {
    servicesDir: join(dir, 'services'),
  });
  await untilHealthy(server);
  const port = await freePort();
  const services = [...Object.keys(LEAVES), 'faults.first', 'faults.block', 'faults.storm', 'zato.helpers.echo'];
  const created = await api(server, 'POST', '/api/channels/wsx', {
    name: 'faults',
    address: `ws://127.0.0.1:${port}/faults`,
    service: 'helpers.web-sockets-gateway',
    gatewayServices: services,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { server, channelUrl: `ws://127.0.0.1:${port}/faults` };
}

async function stillServing(server: Child, channelUrl: string): Promise<void> {
  assert.equal((await fetch(`${server.adminUrl}/api/health`)).status, 200);
  const other = await TestClient.connect(channelUrl);
  await other.createSession();
  const echoed = await other.gateway('zato.helpers.echo', { still: 'here' });
  assert.equal(echoed.meta.status, 200);
  assert.deepEqual(echoed.data, { still: 'here' });
  other.close();
}

async function invokeAll(server: Child, channelUrl: string): Promise<void> {
  const client = await TestClient.connect(channelUrl);
  await client.createSession();
  for (const [service, kind] of ATTRIBUTED) {
    const reply = await client.gateway(service, {});
    assert.equal(reply.meta.status, 200, `${service} answered before its leftover threw`);
    await waitFor(async () => (await metric(server, uncaught(service, kind))) === 1, 10_000, `${service}'s error to be counted`);
  }
  for (const service of [...UNTRACEABLE, 'faults.first']) assert.equal((await client.gateway(service, {})).meta.status, 200);
  client.close();
}

describe('errors thrown outside handle() do not end the process', () => {
  test('timers, intervals, setImmediate, nextTick, microtasks, error events, streams and rejections: logged with the service, counted, the server keeps serving', async () => {
    const { server, channelUrl } = await faultyServer();
    await invokeAll(server, channelUrl);
    // The top level's timer is blamed on the file's only service, or on the file when it fires before the
    // import has finished (the services are not deployed yet); the untraceable two are counted as `none`.
    const topLevel = async () =>
      ((await metric(server, uncaught('faults.quiet'))) ?? 0) +
      ((await metric(server, uncaught(join(server.servicesDir, 'top-level.ts')))) ?? 0);
    await waitFor(async () => (await topLevel()) === 1, 10_000, 'the top-level timer error');
    await waitFor(async () => (await metric(server, uncaught('none'))) === 2, 10_000, 'the errors no stack points to');
    const twoInOne = uncaught(join(server.servicesDir, 'two-in-one.ts'));
    await waitFor(async () => (await metric(server, twoInOne)) === 1, 10_000, 'the two-in-one error, blamed on its file');
    await stillServing(server, channelUrl);
    const log = server.output();
    for (const [service] of ATTRIBUTED)
      assert.match(
        log,
        new RegExp(`"service":"${service.replace('.', '\\.')}"[^\\n]*Service code`),
        `${service} is named in the log`,
      );
    assert.match(log, /"message":"from a timer"/);
    assert.match(log, /outside any service/);
    assert.match(log, /"file":"[^"]*two-in-one\.ts","services":\["faults\.first","faults\.second"\]/);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
  });

  test('a service whose interval throws again and again: every error counted, the log not flooded', async () => {
    const { server, channelUrl } = await faultyServer();
    const client = await TestClient.connect(channelUrl);
    await client.createSession();
    assert.equal((await client.gateway('faults.storm', {})).meta.status, 200);
    await waitFor(async () => (await metric(server, uncaught('faults.storm'))) === 300, 10_000, 'all 300 errors to be counted');
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.includes('"service":"faults.storm"'));
    assert.ok(lines.length <= 11, `at most 10 errors and one notice are logged (got ${lines.length})`);
    assert.match(lines.at(-1)!, /not logging them/);
    client.close();
    await stillServing(server, channelUrl);
    server.child.kill('SIGTERM');
  });

  test('with serviceScopes on, errors no stack points to are blamed on their service too', async () => {
    const { server, channelUrl } = await faultyServer({ SWITCHBOARD_SERVICE_SCOPES: '1' });
    await invokeAll(server, channelUrl);
    for (const service of [...UNTRACEABLE, 'faults.first'])
      await waitFor(async () => (await metric(server, uncaught(service))) === 1, 10_000, `${service}'s error`);
    assert.equal(await metric(server, uncaught('none')), undefined, 'nothing is left unattributed');
    await stillServing(server, channelUrl);
    server.child.kill('SIGTERM');
  });

  test('a server started as a library (startServer) is guarded too', async () => {
    const script = `
      import { startServer } from ${JSON.stringify(join(DIST, 'index.js'))};
      import { createLogger } from ${JSON.stringify(join(DIST, 'observability', 'index.js'))};
      await startServer({}, createLogger('warn'));
    `;
    const { server, channelUrl } = await faultyServer({}, ['--input-type=module', '-e', script]);
    await invokeAll(server, channelUrl);
    await stillServing(server, channelUrl);
    server.child.kill('SIGKILL');
  });
});

describe('a blocked event loop', () => {
  test('is reported by the watchdog thread while it lasts (naming the service) and in /metrics after', async () => {
    const { server, channelUrl } = await faultyServer();
    const client = await TestClient.connect(channelUrl);
    await client.createSession();
    const reply = await client.gateway('faults.block', {});
    assert.equal(reply.meta.status, 200);
    await waitFor(
      async () => ((await metric(server, 'switchboard_eventloop_stalls_total')) ?? 0) >= 1,
      5000,
      'the stall to be counted',
    );
    assert.ok((await metric(server, 'switchboard_eventloop_longest_stall_seconds'))! > 0);
    assert.notEqual(await metric(server, 'switchboard_nodejs_eventloop_lag_seconds'), undefined, 'event-loop lag is exported');
    const log = server.output();
    // The worker's line is written while the loop is still blocked; the main thread's once it is back.
    assert.match(log, /"part":"watchdog","service":"faults\.block"[^\n]*"blockedMs":\d+[^\n]*The event loop is blocked/);
    assert.match(log, /"part":"watchdog","service":"faults\.block"[^\n]*"blockedMs":\d+[^\n]*The event loop was blocked/);
    client.close();
    await stillServing(server, channelUrl);
    server.child.kill('SIGTERM');
  });

  test('in-process: a stall is counted per server (stallWarnMs)', async () => {
    class Spin extends Service {
      static override serviceName = 'faults.spin';
      handle(): void {
        const end = Date.now() + 600;
        while (Date.now() < end) {
          // blocking on purpose
        }
      }
    }
    const server = await startTestServer({ stallWarnMs: 150 });
    try {
      server.registry.register(Spin, 'test');
      assert.equal((await server.api('POST', '/api/services/faults.spin/invoke', {})).status, 200);
      await waitFor(() => server.watchdog!.statistics().stalls >= 1, 5000, 'the stall');
      const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
      assert.match(text, /^switchboard_eventloop_stalls_total [1-9]/m);
    } finally {
      await server.stop();
    }
  });
});

describe('deploy timeout', () => {
  test(
    'a file whose top-level await never settles is reported as failed and start-up goes on (it used to exit 13)',
    { timeout: 60_000 },
    async () => {
      const base = await tempDir();
      await writeFile(join(base, 'services', 'hangs.ts'), `await new Promise(() => {});\nexport {};\n`);
      // The same, one import away.
      await writeFile(join(base, 'services', 'lib-hang.mjs'), `await new Promise(() => {});\nexport const x = 1;\n`);
      await mkdir(join(base, 'services', 'nested'), { recursive: true });
      await writeFile(
        join(base, 'services', 'nested', 'uses-hang.ts'),
        `import { Service } from 'switchboard';\nimport { x } from '../lib-hang.mjs';\nexport class U extends Service { static serviceName = 'faults.uses-hang'; handle() { this.response.payload = x; } }\n`,
      );
      await writeFile(
        join(base, 'services', 'ready.ts'),
        `import { Service } from 'switchboard';\nexport class R extends Service { static serviceName = 'faults.ready'; handle() { this.response.payload = 'ready'; } }\n`,
      );
      const server = await startTestServer({
        dataDir: join(base, 'data'),
        servicesDir: join(base, 'services'),
        deployTimeoutMs: 1000,
      });
      try {
        assert.equal((await server.api('POST', '/api/services/faults.ready/invoke', {})).body.response, 'ready');
        const status = (file: string) => server.deployer.status().find((d) => d.file.endsWith(file));
        for (const file of ['hangs.ts', 'lib-hang.mjs', 'uses-hang.ts']) {
          assert.equal(status(file)?.ok, false, file);
          assert.equal(status(file)?.code, 'deploy_timeout', file);
          assert.match(status(file)!.error!, /did not finish importing within 1000 ms/);
        }
        assert.equal((await server.api('POST', '/api/services/faults.uses-hang/invoke', {})).status, 404);
        // A file saved later is held to the same limit.
        await writeFile(join(base, 'services', 'later.ts'), `await new Promise(() => {});\nexport {};\n`);
        await waitFor(() => status('later.ts')?.code === 'deploy_timeout', 10_000, 'the later file to time out');
        const listed = (await server.api('GET', '/api/services/deployments')).body as Array<{ file: string; code?: string }>;
        assert.equal(listed.find((d) => d.file.endsWith('later.ts'))?.code, 'deploy_timeout');
      } finally {
        await server.stop();
      }
    },
  );
});

describe('a file whose import killed the process', () => {
  test('is skipped at the next start and reported, until it changes (no crash loop)', { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const port = await freePort();
    // Well above what start-up itself may block on a loaded machine, or the restarts would be killed too.
    const env = { SWITCHBOARD_STALL_WARN_MS: '200', SWITCHBOARD_STALL_EXIT_MS: '5000' };
    await writeFile(join(dir, 'services', 'spin.ts'), `for (;;) {}\nexport {};\n`);
    await writeFile(
      join(dir, 'services', 'ok.ts'),
      `import { Service } from 'switchboard';\nexport class Ok extends Service { static serviceName = 'faults.ok'; handle() { this.response.payload = 'ok'; } }\n`,
    );

    const first = spawnServer(dir, port, env);
    const died = await first.exited;
    assert.equal(died.signal, 'SIGKILL', `the watchdog kills the process (stallExitMs):\n${first.output()}`);
    assert.match(first.output(), /"level":60[^\n]*"part":"watchdog","file":"[^"]*spin\.ts"[^\n]*blocked too long/);

    for (let restart = 0; restart < 2; restart++) {
      const again = spawnServer(dir, port, env);
      await untilHealthy(again);
      const spin = await deploymentOf(again, 'spin.ts');
      assert.equal(spin?.ok, false);
      assert.equal(spin?.code, 'deploy_skipped');
      assert.match(spin!.error!, /Skipped: the server stopped .* while importing this file/);
      assert.equal((await api(again, 'POST', '/api/services/faults.ok/invoke', {})).body.response, 'ok');
      if (restart === 1) {
        // A changed file is tried again (here while the server runs, so that it deploys).
        await writeFile(
          join(dir, 'services', 'spin.ts'),
          `import { Service } from 'switchboard';\nexport class Spin extends Service { static serviceName = 'faults.spin'; handle() { this.response.payload = 'fixed'; } }\n`,
        );
        await waitFor(async () => (await deploymentOf(again, 'spin.ts'))?.ok, 10_000, 'the fixed file to deploy');
      }
      again.child.kill('SIGTERM');
      await again.exited;
    }
    const fixed = spawnServer(dir, port, env);
    await untilHealthy(fixed);
    assert.equal((await deploymentOf(fixed, 'spin.ts'))?.ok, true, 'the fixed file is no longer skipped');
    assert.equal((await api(fixed, 'POST', '/api/services/faults.spin/invoke', {})).body.response, 'fixed');
    fixed.child.kill('SIGTERM');
    await fixed.exited;
  });
});

describe('settings', () => {
  test('defaults, environment variables, and values refused', () => {
    const defaults = loadSettings({}, {}, tmpdir());
    assert.equal(defaults.deployTimeoutMs, 10_000);
    assert.equal(defaults.stallWarnMs, 1000);
    assert.equal(defaults.stallExitMs, 0);
    assert.equal(defaults.serviceScopes, false);
    const fromEnv = loadSettings(
      {},
      {
        SWITCHBOARD_DEPLOY_TIMEOUT_MS: '250',
        SWITCHBOARD_STALL_WARN_MS: '0',
        SWITCHBOARD_STALL_EXIT_MS: '30000',
        SWITCHBOARD_SERVICE_SCOPES: 'true',
      },
      tmpdir(),
    );
    assert.deepEqual(
      [fromEnv.deployTimeoutMs, fromEnv.stallWarnMs, fromEnv.stallExitMs, fromEnv.serviceScopes],
      [250, 0, 30_000, true],
    );
    for (const bad of ['-1', '1.5', 'soon', '1e12'])
      assert.throws(
        () => loadSettings({}, { SWITCHBOARD_DEPLOY_TIMEOUT_MS: bad }, tmpdir()),
        /deployTimeoutMs must be a whole number/,
      );
  });
});
