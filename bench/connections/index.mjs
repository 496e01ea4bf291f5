// `npm run bench -- connections [--counts 20000,100000] [--only switchboard,ws] [--per-holder 10000] [--echo 5]
// [--settle 3] [--snapshot PREFIX]`: idle connections at scale. For each count and server (Switchboard's demo channel,
// each connection with a WSX session; the naive `ws` echo server, connections only), started fresh with the
// open-files limit raised as far as this machine allows: memory after a forced GC before and after opening them all
// (RSS, V8 heap, external), the time to open them, and, while they are held, the latency of a separate client's echo
// (lib/loadgen.mjs, one connection, one request in flight). The connections come from holder processes
// (holder.mjs, raw TCP), each from its own loopback source addresses (127.0.0.2, .3, …) and ports it picks itself, so
// that no address runs out of ports. Memory is read inside the server by a preloaded probe (lib/memory-probe.cjs: SIGUSR2 → gc() →
// process.memoryUsage() to a file). A count over what the server's open-files limit can hold is lowered to that, and
// said so. Ends with one JSON line.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fdLimitOf, killAll, root, runJson, spawnNode } from '../lib/processes.mjs';
import { memoryOf, readText } from '../lib/memory.mjs';
import { startSwitchboardChannels, startWsEcho } from '../echo/servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const loadgen = join(here, '..', 'lib', 'loadgen.mjs');
const holderScript = join(here, 'holder.mjs');
const probe = join(here, '..', 'lib', 'memory-probe.cjs');

/** The open-files limit asked for every child (servers, holders); what each gets is read back from /proc. */
const WANTED_FDS = 1_048_576;
/** Descriptors a server keeps besides the held connections: its own files, listeners, the echo client, the API. */
const FD_MARGIN = 64;
/** Issue 13's targets. */
const TARGET_BYTES_PER_CONNECTION = 5 * 1024;
const TARGET_ECHO_P99_MS = 5;

const LABELS = { switchboard: 'switchboard, WSX sessions', ws: 'naive ws' };

/** What bounds how many connections this machine can hold. */
function machineLimits() {
  const limits = readText('/proc/self/limits')
    ?.split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = limits
    ? limits
        .split(/\s{2,}/)
        .slice(1, 3)
        .map(Number)
    : [];
  const range = readText('/proc/sys/net/ipv4/ip_local_port_range')?.split(/\s+/).map(Number);
  const mem = readText('/proc/meminfo');
  const available = mem ? Number(/MemAvailable:\s+(\d+)/.exec(mem)?.[1]) * 1024 : undefined;
  return {
    nofileSoft: soft,
    nofileHard: hard,
    fileMax: Number(readText('/proc/sys/fs/file-max')),
    nrOpen: Number(readText('/proc/sys/fs/nr_open')),
    ephemeralPorts: range ? range[1] - range[0] + 1 : undefined,
    portRange: range?.join('-'),
    memAvailableMB: available ? Math.round(available / 2 ** 20) : undefined,
  };
}

function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts one server with the probe preloaded; resolves with its pid, where to connect and how to stop it. */
async function startServer(key, memoryFile) {
  const spawn = {
    nodeArgs: ['--expose-gc', '--require', probe],
    fdLimit: WANTED_FDS,
    env: { BENCH_MEMORY_FILE: memoryFile },
  };
  if (key === 'switchboard') {
    const s = await startSwitchboardChannels('connections', ['switchboard'], undefined, spawn);
    return { child: s.child, target: s.targets.switchboard, stop: s.stop };
  }
  const s = await startWsEcho(spawn);
  return { child: s.child, target: { ...s.targets.ws, mode: 'json' }, stop: s.stop };
}

/** Starts a holder process and resolves once it is ready for `go`; `done` resolves with its result line. */
async function startHolder(args) {
  const child = spawnNode(holderScript, [JSON.stringify(args)], { fdLimit: WANTED_FDS, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const holder = { child, closed: 0 };
  let ready;
  let done;
  const readyP = new Promise((r) => (ready = r));
  holder.done = new Promise((r, reject) => {
    done = r;
    child.once('exit', (code) => reject(new Error(`a holder exited with ${code}`)));
  });
  holder.done.catch(() => undefined);
  lines.on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.ready) ready();
    else if ('connected' in msg) done(msg);
    else if ('closed' in msg) holder.closed = msg.closed;
  });
  await readyP;
  return holder;
}

/** One server holding `count` connections: memory before and after, connect time, echo latency meanwhile. */
async function measure(key, count, o, limits, dir) {
  const memoryFile = join(dir, `${key}-${count}.json`);
  const server = await startServer(key, memoryFile);
  const pid = server.child.pid;
  const { port, path, mode } = server.target;
  try {
    // A warm-up (100 connections, a second of echoes, then closed) so that the code a connection runs is compiled
    // and loaded before the baseline is read, not counted per connection.
    await runJson(loadgen, [
      JSON.stringify({ host: '127.0.0.1', port, path, mode, connections: 100, window: 1, warmupMs: 0, durationMs: 1000 }),
    ]);
    await sleep(1000);
    const serverFdLimit = fdLimitOf(pid);
    const fdsBefore = openFds(pid);
    const room = serverFdLimit - fdsBefore - FD_MARGIN;
    let n = count;
    let note;
    if (count > room) {
      n = Math.floor(room / 100) * 100;
      note = `${count} asked for; ${n} held: the server's open-files limit is ${serverFdLimit} (the hard limit, which this user cannot raise) and it has ${fdsBefore} open already`;
      console.error(`[bench] ${key}: ${note}`);
    }
    const before = await memoryOf(pid, memoryFile, o.snapshot && `${o.snapshot}-${key}-before.heapsnapshot`);

    // Holders: at most --per-holder connections each, and each from its own source addresses.
    const perHolder = Math.min(o.perHolder, (limits.nofileHard ?? o.perHolder) - FD_MARGIN);
    // Holders choose their source ports (1024–65535) themselves, not from the ephemeral range.
    const perAddress = 60_000;
    const holders = [];
    let address = 2;
    for (let left = n; left > 0; left -= perHolder) {
      const share = Math.min(perHolder, left);
      const addresses = Array.from({ length: Math.ceil(share / perAddress) }, () => `127.0.0.${address++}`);
      holders.push(
        await startHolder({
          host: '127.0.0.1',
          port,
          path,
          mode: mode === 'zato' ? 'zato' : 'json',
          count: share,
          localAddresses: addresses,
        }),
      );
    }
    const t0 = performance.now();
    for (const h of holders) h.child.stdin.write('go\n');
    const results = await Promise.all(holders.map((h) => h.done));
    const connectMs = Math.round(performance.now() - t0);
    const connected = results.reduce((s, r) => s + r.connected, 0);
    const failed = results.reduce((s, r) => s + r.failed, 0);
    const firstError = results.find((r) => r.firstError)?.firstError;
    if (failed) console.error(`[bench] ${key} ${n}: ${failed} connections failed, e.g. ${firstError}`);

    await sleep(o.settleMs);
    const after = await memoryOf(pid, memoryFile, o.snapshot && `${o.snapshot}-${key}-${connected}.heapsnapshot`);
    const fdsHeld = openFds(pid);
    const echo = await runJson(loadgen, [
      JSON.stringify({
        host: '127.0.0.1',
        port,
        path,
        mode,
        connections: 1,
        window: 1,
        warmupMs: 1000,
        durationMs: o.echoMs,
        serverPid: pid,
      }),
    ]);
    const fdsAfterEcho = openFds(pid);
    const closedMeanwhile = holders.reduce((s, h) => s + h.closed, 0);
    const per = (field) => Math.round((after[field] - before[field]) / connected);
    const r = {
      server: key,
      asked: count,
      held: connected,
      failed,
      note,
      holders: holders.length,
      sourceAddresses: address - 2,
      connectMs,
      connectionsPerSec: Math.round(connected / (connectMs / 1000)),
      before: pick(before),
      after: pick(after),
      rssPerConnection: per('rss'),
      heapUsedPerConnection: per('heapUsed'),
      externalPerConnection: per('external'),
      arrayBuffersPerConnection: per('arrayBuffers'),
      serverFdLimit,
      serverFds: { before: fdsBefore, held: fdsHeld, afterEcho: fdsAfterEcho },
      closedMeanwhile,
      echo: { p50: echo.p50, p99: echo.p99, p999: echo.p999, msgsPerSec: echo.msgsPerSec, errors: echo.errors },
    };
    console.error(`[bench] ${key} ${connected}: ${JSON.stringify(r)}`);
    return r;
  } finally {
    killAll();
    server.stop();
  }
}

function pick(m) {
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

const kb = (bytes) => (bytes / 1024).toFixed(2);

export async function run(opts = {}) {
  const counts = String(opts.counts ?? '20000,100000')
    .split(',')
    .map(Number);
  const wanted = opts.only ? String(opts.only).split(',') : ['switchboard', 'ws'];
  for (const k of wanted) if (!LABELS[k]) throw new Error(`--only: no server ${k} (${Object.keys(LABELS).join(', ')})`);
  const o = {
    perHolder: Number(opts['per-holder'] ?? 10_000),
    echoMs: Number(opts.echo ?? 5) * 1000,
    settleMs: Number(opts.settle ?? 3) * 1000,
    snapshot: opts.snapshot ? resolve(root, String(opts.snapshot)) : undefined,
  };
  const limits = machineLimits();
  console.log(
    `machine: open files ${limits.nofileSoft} (hard ${limits.nofileHard}), fs.file-max ${limits.fileMax}, fs.nr_open ${limits.nrOpen}, ` +
      `ephemeral ports ${limits.portRange} (${limits.ephemeralPorts} per source address), ${limits.memAvailableMB} MB available`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-connections-'));
  const runs = [];
  try {
    for (const count of counts) for (const key of wanted) runs.push(await measure(key, count, o, limits, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(runs, counts);
  console.log(JSON.stringify({ bench: 'connections', limits, echo_s: o.echoMs / 1000, runs }));
}

function report(runs, counts) {
  console.log(
    '\nidle connections: memory after a forced GC, (after − before) / held; heap = V8 heapUsed, external = ArrayBuffers and other memory V8 is told of',
  );
  console.log(
    'server                      asked    held  connect s  conn/s  RSS KiB/conn  heap KiB/conn  external KiB/conn  echo p50 ms  p99 ms  p99.9 ms',
  );
  for (const r of runs) {
    console.log(
      `${LABELS[r.server].padEnd(25)} ${String(r.asked).padStart(7)} ${String(r.held).padStart(7)} ${(r.connectMs / 1000).toFixed(1).padStart(10)} ${String(r.connectionsPerSec).padStart(7)} ${kb(r.rssPerConnection).padStart(13)} ${kb(r.heapUsedPerConnection).padStart(14)} ${kb(r.externalPerConnection).padStart(18)} ${r.echo.p50.toFixed(2).padStart(12)} ${r.echo.p99.toFixed(2).padStart(7)} ${r.echo.p999.toFixed(2).padStart(9)}`,
    );
    if (r.note) console.log(`  note: ${r.note}`);
    if (r.failed) console.log(`  note: ${r.failed} connections failed`);
    if (r.closedMeanwhile) console.log(`  note: the server closed ${r.closedMeanwhile} held connections meanwhile`);
  }
  for (const count of counts) {
    const sb = runs.find((r) => r.server === 'switchboard' && r.asked === count);
    const ws = runs.find((r) => r.server === 'ws' && r.asked === count);
    if (sb) {
      const ok = (v, t) => (v <= t ? 'met' : 'not met');
      console.log(
        `${count} asked, ${sb.held} held: switchboard RSS ${kb(sb.rssPerConnection)} KiB per connection (target <= ${kb(TARGET_BYTES_PER_CONNECTION)} KiB at 100,000: ${ok(sb.rssPerConnection, TARGET_BYTES_PER_CONNECTION)}); ` +
          `echo p99 ${sb.echo.p99} ms while held (target < ${TARGET_ECHO_P99_MS} ms: ${ok(sb.echo.p99, TARGET_ECHO_P99_MS)})`,
      );
    }
    if (sb && ws)
      console.log(
        `  switchboard / ws: RSS per connection ${(sb.rssPerConnection / ws.rssPerConnection).toFixed(2)}, heap per connection ${(sb.heapUsedPerConnection / ws.heapUsedPerConnection).toFixed(2)}, ` +
          `connect time ${(sb.connectMs / ws.connectMs).toFixed(2)} (switchboard also creates a session per connection), echo p99 ${(sb.echo.p99 / ws.echo.p99).toFixed(2)}`,
      );
  }
}
