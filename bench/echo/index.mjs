// `npm run bench -- echo`: Zato-protocol invoke of zato.helpers.echo through a Switchboard channel, against a
// naive `ws` JSON echo server and Node-RED 4.1 (websocket-in → function → websocket-out), one at a time, with
// the same raw-TCP pipelined load generator in its own process.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineCheckout, freePort, killAll, runJson, spawnTracked, startSwitchboard, withCpuOf } from '../lib/processes.mjs';
import { NODE_RED_PATH, startNodeRed } from './nodered.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const loadgen = join(here, '..', 'lib', 'loadgen.mjs');

async function startWsEcho(port) {
  const child = spawnTracked(process.execPath, [join(here, 'ws-echo-server.mjs'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return child;
}

/** Drives a server with the load generator; adds the server's CPU use (% of a core, warm-up included). */
async function load(server, target, opts) {
  const args = [
    JSON.stringify({
      ...target,
      connections: opts.connections,
      window: opts.window,
      warmupMs: opts.warmupMs,
      durationMs: opts.durationMs,
    }),
  ];
  const { result, cpu } = await withCpuOf(server.pid, () => runJson(loadgen, args));
  return { ...result, serverCpu: cpu };
}

/** Runs the servers one after another (ours, the baseline with --baseline, ws, Node-RED) and prints the table, the ratios and one JSON line. */
export async function run(opts = {}) {
  const o = {
    connections: Number(opts.connections ?? 4),
    window: Number(opts.window ?? 64),
    warmupMs: Number(opts.warmup ?? 2) * 1000,
    durationMs: Number(opts.duration ?? 8) * 1000,
  };
  // `--baseline PATH` adds the Switchboard built in another checkout to the rotation, as `switchboard@base`.
  const baseline = baselineCheckout(opts.baseline);
  const only = opts.only ? String(opts.only).split(',') : ['switchboard', ...(baseline ? ['base'] : []), 'ws', 'nodered'];
  if (only.includes('base') && !baseline) throw new Error('--only base needs --baseline PATH');
  const rounds = Number(opts.rounds ?? 3);
  // This VM's throughput drifts by ±15 % from minute to minute: the servers take turns, round after round, and
  // each is reported by its median round, so a drift hits all of them alike.
  const all = { switchboard: [], base: [], ws: [], nodered: [] };
  for (let round = 0; round < rounds; round++) {
    const r = await runRound(only, o, baseline, round);
    for (const [key, value] of Object.entries(r)) all[key].push(value);
    console.log(
      `[bench] round ${round + 1}/${rounds}: ${Object.entries(r)
        .map(([k, v]) => `${k === 'base' ? 'switchboard@base' : k} ${v.msgsPerSec}`)
        .join(', ')}`,
    );
  }
  const results = {};
  for (const [key, list] of Object.entries(all)) {
    if (list.length) results[key] = median(list, (r) => r.msgsPerSec);
  }
  // Ratios are paired: Switchboard against each peer in the same round (seconds apart), then the median of those.
  const pairedRatio = (other) => {
    if (!all.switchboard.length || !all[other].length) return { median: null, rounds: [] };
    const ratios = all.switchboard.map((r, i) => +(r.msgsPerSec / all[other][i].msgsPerSec).toFixed(2));
    return { median: median(ratios, (x) => x), rounds: ratios };
  };
  report(results, o, rounds, { base: pairedRatio('base'), ws: pairedRatio('ws'), nodered: pairedRatio('nodered') });
}

function median(list, key) {
  return [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)];
}

/** One Switchboard (this checkout's, or the baseline's) on a fresh data dir, driven and stopped. */
async function loadSwitchboard(name, o, checkout) {
  const sb = await startSwitchboard(name, { checkout });
  const url = new URL(sb.demoUrl);
  const result = await load(sb.child, { host: '127.0.0.1', port: Number(url.port), path: url.pathname, mode: 'zato' }, o);
  killAll();
  rmSync(sb.dir, { recursive: true, force: true });
  return result;
}

async function runRound(only, o, baseline, round) {
  const results = {};
  try {
    // Ours and the baseline swap places every round, so neither always runs on the warmer or the cooler machine.
    const pair = [
      ['switchboard', () => loadSwitchboard('echo', o)],
      ['base', () => loadSwitchboard('echo-base', o, baseline)],
    ];
    for (const [key, start] of round % 2 ? pair.reverse() : pair) {
      if (only.includes(key)) results[key] = await start();
    }
    if (only.includes('ws')) {
      const port = await freePort();
      const server = await startWsEcho(port);
      results.ws = await load(server, { host: '127.0.0.1', port, path: '/', mode: 'json' }, o);
      killAll();
    }
    if (only.includes('nodered')) {
      const port = await freePort();
      const { child, userDir } = await startNodeRed(port);
      results.nodered = await load(child, { host: '127.0.0.1', port, path: NODE_RED_PATH, mode: 'json' }, o);
      killAll();
      rmSync(userDir, { recursive: true, force: true });
    }
  } finally {
    killAll();
  }
  return results;
}

function report(results, o, rounds, ratios) {
  console.log(
    `\necho: ${o.connections} connections × ${o.window} in flight, ${o.durationMs / 1000} s measured after ${o.warmupMs / 1000} s warm-up; median of ${rounds} rounds`,
  );
  console.log('server                     msgs/s     p50 ms    p99 ms   errors   server CPU   load generator CPU');
  const labels = {
    switchboard: 'switchboard (WSX invoke)',
    base: 'switchboard@base',
    ws: 'naive ws echo',
    nodered: 'node-red 4.1',
  };
  for (const [key, r] of Object.entries(results)) {
    console.log(
      `${labels[key].padEnd(24)} ${String(r.msgsPerSec).padStart(8)} ${r.p50.toFixed(2).padStart(10)} ${r.p99.toFixed(2).padStart(9)} ${String(r.errors).padStart(8)}   ${String(r.serverCpu ?? '?').padStart(7)}%     ${r.cpuPercent}% of a core`,
    );
    if (r.cpuPercent > 80 && (r.serverCpu ?? 100) < 90)
      console.log(
        `  note: the load generator (${r.cpuPercent}%) may be the bottleneck for ${labels[key]} (server at ${r.serverCpu}%)`,
      );
  }
  const ratio = (other) => ratios[other].median;
  if (results.base)
    console.log(
      `ratio new/base: ${ratio('base')} (rounds: ${ratios.base.rounds.join(', ')}; below 1 means this checkout is slower)`,
    );
  console.log(
    `ratio vs ws: ${ratio('ws')} (rounds: ${ratios.ws.rounds.join(', ')}; target >= 1.5); ` +
      `ratio vs node-red: ${ratio('nodered')} (rounds: ${ratios.nodered.rounds.join(', ')}; target >= 4)`,
  );
  console.log(
    JSON.stringify({
      bench: 'echo',
      switchboard: results.switchboard?.msgsPerSec ?? null,
      base: results.base?.msgsPerSec ?? null,
      ws: results.ws?.msgsPerSec ?? null,
      nodered: results.nodered?.msgsPerSec ?? null,
      ratio_vs_base: ratio('base'),
      ratio_vs_ws: ratio('ws'),
      ratio_vs_nodered: ratio('nodered'),
      p50_ms: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.p50])),
      p99_ms: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.p99])),
      server_cpu_pct: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.serverCpu])),
      loadgen_cpu_pct: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.cpuPercent])),
      connections: o.connections,
      window: o.window,
      duration_s: o.durationMs / 1000,
      rounds,
      ratio_rounds: { base: ratios.base.rounds, ws: ratios.ws.rounds, nodered: ratios.nodered.rounds },
    }),
  );
}
