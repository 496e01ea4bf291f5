// Child processes for benchmarks: Switchboard servers and helpers, all killed when the bench exits.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const children = new Set();

process.once('exit', killAll);
process.once('SIGINT', () => process.exit(130));

/** Kills every child this module started. */
export function killAll() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Spawns and remembers a child process. */
export function spawnTracked(command, args, options) {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The admin token of every server a bench starts (the server refuses tokens under 24 characters). */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** The server entry point of a checkout (this one by default), built with tsc. */
function serverMain(checkout) {
  return join(checkout, 'dist/src/server/main.js');
}

/**
 * Resolves `--baseline PATH`: another checkout of Switchboard, built, whose server runs beside ours as
 * `switchboard@base`. Fails early, naming what to build, rather than after the first round.
 */
export function baselineCheckout(path) {
  if (path === undefined || path === true) return undefined;
  const checkout = resolve(String(path));
  if (!existsSync(serverMain(checkout))) {
    throw new Error(
      `--baseline ${checkout}: no ${serverMain(checkout)}; build it there (node node_modules/typescript/bin/tsc -p tsconfig.json && node scripts/build-web.mjs)`,
    );
  }
  return checkout;
}

/**
 * Starts a Switchboard server in its own process on a fresh data dir; resolves when its API answers.
 * `checkout` runs another build (a baseline) instead of this one; `nodeArgs` go to node before the entry point
 * (e.g. `--cpu-prof`, which NODE_OPTIONS does not take).
 */
export async function startSwitchboard(name, { servicesDir, checkout = root, env: extra = {}, nodeArgs = [] } = {}) {
  const main = serverMain(checkout);
  const dir = mkdtempSync(join(tmpdir(), `sb-bench-${name}-`));
  const [adminPort, demoPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_SERVICES_DIR: servicesDir ?? join(dir, 'services'),
    SWITCHBOARD_ADMIN_PORT: String(adminPort),
    SWITCHBOARD_DEMO_PORT: String(demoPort),
    SWITCHBOARD_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SWITCHBOARD_LOG_LEVEL: 'warn',
    ...extra,
  };
  const child = spawnTracked(process.execPath, [...nodeArgs, main], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const admin = `http://127.0.0.1:${adminPort}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`Switchboard (${name}) exited with ${child.exitCode}; is it built (npm run build)?`);
    try {
      if ((await fetch(`${admin}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`Switchboard (${name}) did not start within 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async (method, path, body) => {
    const res = await fetch(admin + path, {
      method,
      headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const offset = Number(extra.SWITCHBOARD_PORT_OFFSET ?? 0);
  // Servers of one cluster share the demo channel the first one seeded: pass the same SWITCHBOARD_DEMO_PORT to each.
  const demo = Number(env.SWITCHBOARD_DEMO_PORT) + offset;
  return { admin, api, demoUrl: `ws://127.0.0.1:${demo}/demo`, dir, child };
}

/**
 * Lifts a channel's connection limits (256 per channel, 64 per IP address by default) for benches that open more
 * connections than that from one address.
 */
export async function liftConnectionLimits(sb, channel) {
  const { runtime, ...config } = await sb.api('GET', `/api/channels/wsx/${encodeURIComponent(channel)}`);
  await sb.api('PUT', `/api/channels/wsx/${encodeURIComponent(channel)}`, {
    ...config,
    maxConnections: null,
    maxConnectionsPerIp: null,
  });
}

/** Runs a node script and resolves with its stdout's last line parsed as JSON. */
export function runJson(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** CPU seconds a process has used so far (Linux /proc; undefined elsewhere). */
function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `fn` and reports the average CPU a process used meanwhile, as % of one core. */
export async function withCpuOf(pid, fn) {
  const c0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  const result = await fn();
  const c1 = cpuSecondsOf(pid);
  const cpu =
    c0 === undefined || c1 === undefined ? undefined : Math.round(((c1 - c0) / ((performance.now() - t0) / 1000)) * 100);
  return { result, cpu };
}

/** Percentile of a sorted array. */
export function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}
