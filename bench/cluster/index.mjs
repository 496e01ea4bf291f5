// `npm run bench -- cluster [--only a,b,c,d,e] [--rounds 3] [--subscribers 1000] [--messages 2000] [--window 32]
// [--clients 64] [--duration 5] [--topics 100] [--rate 1000] [--changes 100]`: the cluster on PostgreSQL
// (docs/cluster.md), against one server in the same run (cluster-notes §6):
//   (a) GD publishes committed per second, 8 publishers (one publish in flight each, then 16 each): SQLite, one
//       server on PostgreSQL, and two servers on PostgreSQL with the publishers split 4/4 (both measured at once);
//   (b) fan-out, 1 publisher on A → subscribers split over A and B, against all on one server (fanout.mjs);
//   (c) a service on A invoking clients on B over NOTIFY RPC, against clients on A (invoke.mjs);
//   (d) failover: durable GD subscribers on B resume on A after kill -9 of B (failover.mjs);
//   (e) config propagation: a channel deactivated through server A's admin API, until server B has applied it (B
//       closes its clients of the channel), p50/p99 over `--changes` changes.
// `--cpus 0.5` (the default where cgroups allow it; `--cpus 0` skips): (a) and (b) also run with each server held to
// that much CPU, one server against two (bench/lib/cpu-quota.mjs): what two servers give when each has CPU of its
// own, which servers, PostgreSQL and the generator sharing this machine's 2 cores cannot show.
// Each case ends with one JSON line.
import WebSocket from 'ws';
import { backendsOf, cpuSplit, formatCpu, postgresPids } from '../lib/cpu.mjs';
import { cpuQuotaAvailable } from '../lib/cpu-quota.mjs';
import { freePort, killAll } from '../lib/processes.mjs';
import { measureGd } from '../pubsub/gd-publishers.mjs';
import { failoverCase } from './failover.mjs';
import { fanoutCase } from './fanout.mjs';
import { invokeCase } from './invoke.mjs';
import { median, onDatabase, quantile, servers, stop } from './servers.mjs';

const TOPIC = '/bench/gd';

async function gdRound(group, window) {
  // Publications pile up for no subscriber: room for them past the default 64 MiB per topic.
  await group[0].api('POST', '/api/pubsub/topics', { name: TOPIC, maxDepthGd: 100_000_000, maxBytesGd: 16 * 1024 ** 3 });
  const per = 8 / group.length;
  // Wait until every server has the topic (config fan-out) before measuring.
  await new Promise((r) => setTimeout(r, 1500));
  const pids = group.map((s) => s.child.pid);
  // The CPU split (servers, their PostgreSQL backends, all of PostgreSQL): on 2 shared cores, what limits whom.
  const { result: results, cpu } = await cpuSplit(
    {
      ...Object.fromEntries(pids.map((pid, i) => [`server ${'AB'[i]}`, [pid]])),
      'their pg backends': () => backendsOf(pids, onDatabase),
      'all postgres': postgresPids,
    },
    () => Promise.all(group.map((s) => measureGd({ url: s.demoUrl, topic: TOPIC, publishers: per, window, durationMs: 5000 }))),
  );
  return {
    cpu,
    committedPerSec: results.reduce((n, r) => n + r.committedPerSec, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((n, r) => n + r.errors, 0),
  };
}

/** Opens a plain WebSocket; resolves once open. */
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// What B applies is observed by what it does, not by polling it: B closes its clients of a channel deactivated on
// A (a push the bench's socket sees), so each sample is PUT on A → close on B.
async function propagation(changes) {
  const [a, b] = await servers('cfg', 2);
  const port = await freePort();
  const channel = { name: 'cfg', service: 'zato.helpers.echo', protocol: 'plain', address: `ws://127.0.0.1:${port}/cfg` };
  await a.api('POST', '/api/channels/wsx', channel);
  const remote = await deactivations(a, channel, `ws://127.0.0.1:${port + 10}/cfg`, changes);
  // The same change seen by a client of A itself: what applying costs without the fan-out, for the ratio.
  const local = await deactivations(a, channel, `ws://127.0.0.1:${port}/cfg`, changes);
  await stop([a, b]);
  return {
    remote: summary(remote),
    local: summary(local),
    ratio_p50: +(quantile(remote, 0.5) / quantile(local, 0.5)).toFixed(2),
  };
}

function summary(ms) {
  return { p50: +quantile(ms, 0.5).toFixed(2), p99: +quantile(ms, 0.99).toFixed(2), max: +Math.max(...ms).toFixed(2) };
}

/** Milliseconds from each PUT that deactivates `channel` on server `a` until a client connected at `url` is closed. */
async function deactivations(a, channel, url, changes) {
  const ms = [];
  for (let i = 0; i < changes; i++) {
    let ws;
    for (const deadline = performance.now() + 5000; !ws;) {
      ws = await open(url).catch(() => undefined);
      if (!ws && performance.now() > deadline) throw new Error(`the channel did not come back at ${url} within 5 s`);
    }
    const closed = new Promise((resolve) => ws.once('close', () => resolve(performance.now())));
    const t0 = performance.now();
    await a.api('PUT', '/api/channels/wsx/cfg', { ...channel, isActive: false });
    ms.push((await closed) - t0);
    await a.api('PUT', '/api/channels/wsx/cfg', { ...channel, isActive: true });
  }
  return ms;
}

/**
 * The CPU budget per server of the extra setups of (a) and (b) (`--cpus 0.5`, the default; `--cpus 0`: none), when
 * this machine can set one (bench/lib/cpu-quota.mjs); undefined otherwise, said once.
 */
function cpuBudget(option) {
  const cores = Number(option ?? 0.5);
  if (!cores) return undefined;
  if (cpuQuotaAvailable()) return cores;
  console.log(
    '(no cgroup CPU quota can be set here (root and a cgroup cpu controller are needed): the per-server budget setups are left out)',
  );
  return undefined;
}

export async function run(opts) {
  const rounds = Number(opts.rounds ?? 3);
  const changes = Number(opts.changes ?? 100);
  const subscribers = Number(opts.subscribers ?? 1000);
  const only = opts.only ? String(opts.only).split(',') : ['a', 'b', 'c', 'd', 'e'];
  const cpus = cpuBudget(opts.cpus);
  try {
    if (only.includes('a')) {
      const gd = await publishing(rounds, cpus);
      console.log(JSON.stringify({ bench: 'cluster-gd', cases: gd }));
    }
    if (only.includes('b')) {
      await fanoutCase({ subscribers, messages: Number(opts.messages ?? 2000), window: Number(opts.window ?? 32), rounds, cpus });
    }
    if (only.includes('c')) {
      await invokeCase({ clients: Number(opts.clients ?? 64), durationMs: Number(opts.duration ?? 5) * 1000, rounds });
    }
    if (only.includes('d')) {
      await failoverCase({ subscribers, topics: Number(opts.topics ?? 100), rate: Number(opts.rate ?? 1000) });
    }
    if (only.includes('e')) {
      console.log(
        `\n(e) config propagation: channel deactivated on A → its client on B closed, ${changes} times (NOTIFY; clusterPollMs = 1 s bounds it)`,
      );
      const e = await propagation(changes);
      console.log(`on B (fan-out): p50 ${e.remote.p50} ms, p99 ${e.remote.p99} ms, max ${e.remote.max} ms`);
      console.log(
        `on A (local):   p50 ${e.local.p50} ms, p99 ${e.local.p99} ms, max ${e.local.max} ms; ratio B/A at p50 ${e.ratio_p50}`,
      );
      console.log(JSON.stringify({ bench: 'cluster-propagation', ...e }));
    }
  } finally {
    killAll();
  }
}

/** The setups of case (a): label, servers, CPU budget per server (cores; none: all share the machine). */
function gdSetups(cpus) {
  const setups = [
    ['sqlite, 1 server', 0],
    ['postgres, 1 server', 1],
    ['postgres, 2 servers (4+4 publishers)', 2],
  ];
  if (!cpus) return setups;
  return [...setups, [`postgres, 1 server at ${cpus} core`, 1, cpus], [`postgres, 2 servers at ${cpus} core each`, 2, cpus]];
}

async function publishing(rounds, cpus) {
  console.log(`(a) GD publishes committed per second, 8 publishers; median of ${rounds} runs of 5 s per setup`);
  const table = {};
  for (const [label, count, quota] of gdSetups(cpus)) {
    for (const window of [1, 16]) {
      const runs = [];
      for (let i = 0; i < rounds; i++) {
        const group = await servers('gd', count, { cpus: quota });
        runs.push(await gdRound(group, window));
        await stop(group);
      }
      const m = median(runs.map((r) => r.committedPerSec));
      const r = runs.find((x) => x.committedPerSec === m);
      table[`${label}, window ${window}`] = { ...r, runs: runs.map((x) => x.committedPerSec) };
      console.log(
        `${label.padEnd(38)} window ${String(window).padStart(2)}: ${String(m).padStart(6)} committed/s (runs: ${r && runs.map((x) => x.committedPerSec).join(', ')}), p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${runs.reduce((n, x) => n + x.errors, 0)}`,
      );
      console.log(`${''.padEnd(38)} CPU (% of one core, warm-up included): ${formatCpu(r.cpu)}`);
    }
  }
  const ratio = (a, b) => +(table[a].committedPerSec / table[b].committedPerSec).toFixed(2);
  for (const w of [1, 16]) {
    const budget = cpus
      ? `; with ${cpus} core per server: 2 servers/1 server ${ratio(`postgres, 2 servers at ${cpus} core each, window ${w}`, `postgres, 1 server at ${cpus} core, window ${w}`)}`
      : '';
    console.log(
      `window ${w}: postgres/sqlite ${ratio(`postgres, 1 server, window ${w}`, `sqlite, 1 server, window ${w}`)}, ` +
        `2 servers/1 server ${ratio(`postgres, 2 servers (4+4 publishers), window ${w}`, `postgres, 1 server, window ${w}`)}${budget}`,
    );
  }
  return table;
}
