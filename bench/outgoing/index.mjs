// `npm run bench -- outgoing`: invokes from a service through an outgoing connection (poolSize 1 and 4) to a
// Switchboard channel in another process, against a bare `ws` client driving the same channel, in one run.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const children = new Set();

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const child of children) child.kill('SIGKILL');
}
process.once('exit', killAll);
process.once('SIGINT', () => process.exit(130));

/** Starts a Switchboard server in its own process; resolves with its admin URL and demo port. */
async function startSwitchboard(name, servicesDir) {
  const dir = mkdtempSync(join(tmpdir(), `sb-bench-${name}-`));
  const [adminPort, demoPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_SERVICES_DIR: servicesDir ?? join(dir, 'services'),
    SWITCHBOARD_ADMIN_PORT: String(adminPort),
    SWITCHBOARD_DEMO_PORT: String(demoPort),
    SWITCHBOARD_ADMIN_TOKEN: 'bench',
    SWITCHBOARD_LOG_LEVEL: 'warn',
  };
  const child = track(spawn(process.execPath, [join(root, 'dist/src/server/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  const admin = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Switchboard (${name}) exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${admin}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`Switchboard (${name}) did not start within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { admin, demoPort, dir, child };
}

async function api(admin, method, path, body) {
  const res = await fetch(admin + path, {
    method,
    headers: { authorization: 'Bearer bench', ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function runBare(url, { concurrency, durationMs, warmupMs }) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [join(here, 'bare-client.mjs'), url, String(concurrency), String(durationMs), String(warmupMs)], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bare client exited with ${code}`))));
  });
}

/** Runs the case and prints a table, the ratios, and one JSON line. */
export async function run(opts = {}) {
  const concurrency = Number(opts.concurrency ?? 64);
  const durationMs = Number(opts.duration ?? 5) * 1000;
  const warmupMs = Number(opts.warmup ?? 1) * 1000;
  const load = { concurrency, durationMs, warmupMs };

  const remote = await startSwitchboard('remote');
  const servicesDir = mkdtempSync(join(tmpdir(), 'sb-bench-services-'));
  mkdirSync(servicesDir, { recursive: true });
  cpSync(join(here, 'driver-service.mjs'), join(servicesDir, 'driver-service.mjs'));
  const caller = await startSwitchboard('caller', servicesDir);
  const target = `ws://127.0.0.1:${remote.demoPort}/demo`;
  try {
    const results = {};
    for (const poolSize of [1, 4]) {
      const name = `bench-pool-${poolSize}`;
      await api(caller.admin, 'POST', '/api/outgoing/wsx', { name, address: target, isZato: true, poolSize, responseTimeout: 30 });
      for (let i = 0; i < 100; i++) {
        const conn = await api(caller.admin, 'GET', `/api/outgoing/wsx/${name}`);
        if (conn.runtime.connected === poolSize) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { response } = await api(caller.admin, 'POST', '/api/services/bench.outgoing-driver/invoke', { request: { conn: name, ...load } });
      results[`pool${poolSize}`] = response;
      await api(caller.admin, 'DELETE', `/api/outgoing/wsx/${name}`);
    }
    results.bare = await runBare(target, load);

    const rows = [
      ['outgoing, poolSize 1', results.pool1],
      ['outgoing, poolSize 4', results.pool4],
      ['bare ws client', results.bare],
    ];
    console.log(`\noutgoing: ${concurrency} requests in flight, ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up`);
    console.log('case                     msgs/s     p50 ms    p99 ms   errors');
    for (const [label, r] of rows) {
      console.log(`${label.padEnd(22)} ${String(r.msgsPerSec).padStart(8)} ${r.p50.toFixed(2).padStart(10)} ${r.p99.toFixed(2).padStart(9)} ${String(r.errors).padStart(8)}`);
    }
    const ratio = (r) => +(r.msgsPerSec / results.bare.msgsPerSec).toFixed(2);
    console.log(`ratio vs bare client: poolSize 1 ${ratio(results.pool1)}, poolSize 4 ${ratio(results.pool4)} (target >= 0.8)`);
    console.log(
      JSON.stringify({
        bench: 'outgoing',
        pool1: results.pool1.msgsPerSec,
        pool4: results.pool4.msgsPerSec,
        bare: results.bare.msgsPerSec,
        ratio_pool1: ratio(results.pool1),
        ratio_pool4: ratio(results.pool4),
        p50_ms: { pool1: results.pool1.p50, pool4: results.pool4.p50, bare: results.bare.p50 },
        p99_ms: { pool1: results.pool1.p99, pool4: results.pool4.p99, bare: results.bare.p99 },
        concurrency,
        duration_s: durationMs / 1000,
      }),
    );
  } finally {
    killAll();
    for (const dir of [remote.dir, caller.dir, servicesDir]) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
}
