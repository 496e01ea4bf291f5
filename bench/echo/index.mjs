// `npm run bench -- echo [--shapes pipelined,200x1,2000x1,1x1] [--only switchboard,direct,plain,ws,ws-wsx,floor,nodered]
// [--rounds 3] [--connections 4 --window 64] [--duration 8] [--warmup 2] [--baseline PATH]`: echo through Switchboard
// (the WSX gateway on the demo channel, a WSX channel with zato.helpers.echo mounted directly, a plain JSON channel)
// against a naive `ws` JSON echo server (also fed the gateway's WSX frames), the floor (frames by hand on the raw
// socket: what the kernel and Node's socket layer alone cost per message) and Node-RED 4.1, with the same raw-TCP
// load generator in its own process, in the load shapes real clients make: many connections with one request in flight each (200 × 1, 2,000 × 1), one
// connection with one (latency: p50/p99/p99.9), beside the pipelined case (4 × 64). Each round starts every server
// fresh, in turn (the order rotates), and runs every shape on it; ratios are paired per round and shape, then the
// median. Server CPU per message (user + sys from /proc over the measured window) holds where the generator is the
// limit. Ends with one JSON line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { barChart } from '../lib/bar-chart.mjs';
import { baselineCheckout, root } from '../lib/processes.mjs';
import { LABELS, load, processes, stopProcess } from './servers.mjs';

/** The shapes by name: connections × requests in flight on each. */
function shapesOf(opts) {
  return {
    pipelined: { connections: Number(opts.connections ?? 4), window: Number(opts.window ?? 64) },
    '200x1': { connections: 200, window: 1 },
    '2000x1': { connections: 2000, window: 1 },
    '1x1': { connections: 1, window: 1 },
  };
}

// Issue 13's targets: Switchboard key → peer → ratio it must reach, per shape.
const TARGETS = {
  pipelined: { switchboard: { ws: 1.5, nodered: 4 } },
  '200x1': { switchboard: { ws: 1.0, nodered: 2 }, plain: { ws: 1.1 } },
  '2000x1': { switchboard: { ws: 1.0, nodered: 2 }, plain: { ws: 1.1 } },
};

/** Runs the rounds and prints, per shape, the table and the paired ratios; then one JSON line. */
export async function run(opts = {}) {
  const o = { warmupMs: Number(opts.warmup ?? 2) * 1000, durationMs: Number(opts.duration ?? 8) * 1000 };
  const shapes = shapesOf(opts);
  const shapeNames = opts.shapes ? String(opts.shapes).split(',') : Object.keys(shapes);
  for (const s of shapeNames) if (!shapes[s]) throw new Error(`--shapes: no shape ${s} (${Object.keys(shapes).join(', ')})`);
  const baseline = baselineCheckout(opts.baseline);
  const wanted = opts.only
    ? String(opts.only).split(',')
    : ['switchboard', 'direct', 'plain', ...(baseline ? ['base', 'base-plain'] : []), 'ws', 'ws-wsx', 'floor', 'nodered'];
  if (wanted.some((k) => k.startsWith('base')) && !baseline) throw new Error('--only base needs --baseline PATH');
  const rounds = Number(opts.rounds ?? 3);
  // all[shape][key]: one result per round.
  const all = Object.fromEntries(shapeNames.map((s) => [s, Object.fromEntries(wanted.map((k) => [k, []]))]));
  const list = processes(wanted, baseline);
  for (let round = 0; round < rounds; round++) {
    // The servers take turns, and the order rotates: a drift of this VM (±15 % from minute to minute) hits all alike.
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const p of order) {
      const started = await p.start();
      try {
        for (const key of p.keys)
          for (const s of shapeNames) all[s][key].push(await load(started.child, started.targets[key], shapes[s], o));
      } finally {
        stopProcess(started);
      }
    }
    console.error(`[bench] echo round ${round + 1}/${rounds} done`);
  }
  const summary = {};
  for (const s of shapeNames) summary[s] = report(s, shapes[s], all[s], o, rounds);
  console.log(JSON.stringify({ bench: 'echo', rounds, duration_s: o.durationMs / 1000, shapes: summary }));
  const plot = resolve(root, String(opts.plot ?? join('bench', 'results', 'echo.svg')));
  mkdirSync(dirname(plot), { recursive: true });
  writeFileSync(plot, plotOf(summary));
  console.log(`plot: ${plot}`);
}

/** msgs/s per server and shape, as an SVG (`--plot PATH`; default bench/results/echo.svg). */
export function plotOf(summary) {
  const groups = Object.entries(summary).map(([name, s]) => ({
    name: `${s.connections} × ${s.window}${name === 'pipelined' ? ' (pipelined)' : ''}`,
    bars: Object.entries(s.servers).map(([key, r]) => ({ key, value: r.msgsPerSec })),
  }));
  return barChart({
    title: 'npm run bench -- echo: msgs/s per server and shape',
    unit: 'echoes per second (median round)',
    groups,
    labels: LABELS,
  });
}

function median(list, key = (x) => x) {
  return [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)];
}

/** Paired ratios of `key` against `peer` in one shape: per round, then their median. */
function paired(results, key, peer) {
  const ours = results[key];
  const theirs = results[peer];
  if (!ours?.length || !theirs?.length) return undefined;
  const rounds = ours.map((r, i) => +(r.msgsPerSec / theirs[i].msgsPerSec).toFixed(2));
  return { median: median(rounds), rounds };
}

function report(name, shape, results, o, rounds) {
  console.log(
    `\necho ${name}: ${shape.connections} connection(s) × ${shape.window} in flight, ${o.durationMs / 1000} s measured after ${o.warmupMs / 1000} s warm-up; median of ${rounds} rounds`,
  );
  console.log(
    'server                        msgs/s   p50 ms   p99 ms  p99.9 ms  errors  server CPU  µs/msg  (sys)  generator CPU',
  );
  const out = { connections: shape.connections, window: shape.window, servers: {}, ratios: {} };
  for (const [key, list] of Object.entries(results)) {
    if (!list.length) continue;
    const r = median(list, (x) => x.msgsPerSec);
    out.servers[key] = {
      msgsPerSec: r.msgsPerSec,
      p50: r.p50,
      p99: r.p99,
      p999: r.p999,
      errors: r.errors,
      serverCpuPct: r.serverCpuPercent,
      serverCpuUsPerMsg: median(list.map((x) => x.serverCpuUsPerMsg ?? Infinity)),
      serverSysUsPerMsg: median(list.map((x) => x.serverSysUsPerMsg ?? Infinity)),
      generatorCpuPct: r.cpuPercent,
      rounds: list.map((x) => x.msgsPerSec),
    };
    const v = out.servers[key];
    console.log(
      `${LABELS[key].padEnd(27)} ${String(v.msgsPerSec).padStart(8)} ${v.p50.toFixed(2).padStart(8)} ${v.p99.toFixed(2).padStart(8)} ${v.p999.toFixed(2).padStart(9)} ${String(v.errors).padStart(7)} ${String(v.serverCpuPct ?? '?').padStart(9)} % ${String(v.serverCpuUsPerMsg).padStart(7)} ${String(v.serverSysUsPerMsg).padStart(6)} ${String(v.generatorCpuPct).padStart(10)} %`,
    );
    if (v.generatorCpuPct > 80 && (v.serverCpuPct ?? 100) < 90)
      console.log(`  note: the generator (${v.generatorCpuPct} %) may be the limit here; compare µs/msg`);
  }
  for (const [key, base] of [
    ['switchboard', 'base'],
    ['plain', 'base-plain'],
  ]) {
    const ratio = paired(results, key, base);
    if (!ratio) continue;
    out.ratios[`${key}/${base}`] = ratio.median;
    const cpu = out.servers[base].serverCpuUsPerMsg / out.servers[key].serverCpuUsPerMsg;
    console.log(
      `ratio new/base, ${LABELS[key]}: ${ratio.median} (rounds ${ratio.rounds.join(', ')}); CPU per message ${cpu.toFixed(2)}× in our favour`,
    );
  }
  for (const key of ['switchboard', 'direct', 'plain', 'base', 'floor']) {
    for (const peer of ['ws', 'ws-wsx', 'floor', 'nodered']) {
      if (key === peer) continue;
      const ratio = paired(results, key, peer);
      if (!ratio) continue;
      out.ratios[`${key}/${peer}`] = ratio.median;
      const target = TARGETS[name]?.[key]?.[peer];
      // CPU per message, ours against the peer's (higher is better for us: the peer spends more per message).
      const cpu = out.servers[peer].serverCpuUsPerMsg / out.servers[key].serverCpuUsPerMsg;
      console.log(
        `${LABELS[key]} / ${LABELS[peer]}: ${ratio.median} (rounds ${ratio.rounds.join(', ')}${target ? `; target >= ${target}` : ''}); CPU per message ${cpu.toFixed(2)}× in ${key === 'floor' ? "the floor's" : 'our'} favour`,
      );
    }
  }
  if (name === '1x1' && out.servers.switchboard && out.servers.ws)
    console.log(
      `latency: p99 gateway/ws ${(out.servers.switchboard.p99 / out.servers.ws.p99).toFixed(2)} (target <= 1.2), p99.9 ${(out.servers.switchboard.p999 / out.servers.ws.p999).toFixed(2)}`,
    );
  return out;
}
