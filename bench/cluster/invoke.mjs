// Case (c): cross-server invoke. A hot-deployed service on server A (invoker-service.mjs) calls WSX clients through
// `this.wsx.channel('demo').invoke(...)`: clients on server B (NOTIFY RPC through PostgreSQL) against the same clients
// on A itself (the local path), in one two-server cluster. Two shapes, one request in flight per client as a real
// caller waits for each reply: one client (round-trip latency), and `clients` clients at once.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendsOf, cpuSplit, formatCpu, postgresPids } from '../lib/cpu.mjs';
import { spawnTracked } from '../lib/processes.mjs';
import { liftDemoLimits, median, onDatabase, servers, stop, until } from './servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Starts `count` answering clients on `url` in their own process; resolves once all have a session. */
function startAnswerers(url, count, prefix) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [join(here, 'answerers.mjs'), url, String(count), prefix], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`answerers exited with ${code} before they were ready`)));
  });
}

/** The pubClientIds of the clients `<prefix>-*`, as server A lists them (B's come from the cluster registry). */
function clientIds(a, prefix, count) {
  return until(async () => {
    const listed = (await a.api('GET', '/api/channels/wsx/demo/clients')).filter((c) => c.extClientId?.startsWith(`${prefix}-`));
    return listed.length === count ? listed.map((c) => c.pubClientId) : undefined;
  }, `${count} clients ${prefix}-* listed on A`);
}

/** Both shapes against clients on `where` (0: A, local; 1: B, remote). */
async function placement(group, where, { clients, durationMs, round }) {
  const prefix = `inv${round}${'ab'[where]}`;
  const answerers = await startAnswerers(group[where].demoUrl, clients, prefix);
  try {
    const ids = await clientIds(group[0], prefix, clients);
    const serverPids = group.map((s) => s.child.pid);
    const out = {};
    for (const [shape, list] of [
      ['1 in flight', ids.slice(0, 1)],
      [`${clients} in flight`, ids],
    ]) {
      const { result, cpu } = await cpuSplit(
        {
          'server A': [group[0].child.pid],
          'server B': [group[1].child.pid],
          'their pg backends': () => backendsOf(serverPids, onDatabase),
          'all postgres': postgresPids,
          clients: [answerers.pid],
        },
        () =>
          group[0].api('POST', '/api/services/bench.cluster-invoker/invoke', {
            request: { channel: 'demo', ids: list, perClient: 1, durationMs, warmupMs: 1000 },
          }),
      );
      out[shape] = { ...result.response, cpu };
    }
    return out;
  } finally {
    answerers.kill('SIGTERM');
  }
}

/** Runs case (c) for `rounds` rounds (local and remote taking turns); prints a table, ratios and a JSON line. */
export async function invokeCase({ clients, durationMs, rounds }) {
  console.log(
    `\n(c) cross-server invoke: a service on A calls clients (one request in flight per client) on B (NOTIFY RPC) vs on A; ` +
      `${durationMs / 1000} s per shape after 1 s warm-up, ${rounds} rounds`,
  );
  const servicesDir = mkdtempSync(join(tmpdir(), 'sb-bench-cluster-services-'));
  cpSync(join(here, 'invoker-service.mjs'), join(servicesDir, 'invoker-service.mjs'));
  const group = await servers('inv', 2, { servicesDir });
  const runs = { local: [], remote: [] };
  try {
    await liftDemoLimits(group);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? ['remote', 'local'] : ['local', 'remote'];
      for (const k of order) runs[k].push(await placement(group, k === 'local' ? 0 : 1, { clients, durationMs, round }));
      console.error(
        `[bench] (c) round ${round + 1}/${rounds}: ` +
          Object.keys(runs.local[round])
            .map((s) => `${s}: local ${runs.local[round][s].callsPerSec}/s, remote ${runs.remote[round][s].callsPerSec}/s`)
            .join('; '),
      );
    }
  } finally {
    await stop(group);
    rmSync(servicesDir, { recursive: true, force: true });
  }
  const result = { bench: 'cluster-invoke', clients, rounds, duration_s: durationMs / 1000, shapes: {} };
  for (const shape of Object.keys(runs.local[0])) {
    const ratios = runs.local.map((l, i) => +(runs.remote[i][shape].callsPerSec / l[shape].callsPerSec).toFixed(2));
    const pick = (list) => {
      const m = median(list.map((r) => r[shape].callsPerSec));
      return list.find((r) => r[shape].callsPerSec === m)[shape];
    };
    const [local, remote] = [pick(runs.local), pick(runs.remote)];
    for (const [label, r] of [
      ['clients on A (local)', local],
      ['clients on B (remote)', remote],
    ]) {
      console.log(
        `${shape.padEnd(14)} ${label.padEnd(22)} ${String(r.callsPerSec).padStart(7)} calls/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
      );
      console.log(`${''.padEnd(37)} CPU (% of one core): ${formatCpu(r.cpu)}`);
    }
    console.log(`${shape.padEnd(14)} ratio remote/local: ${median(ratios)} (rounds: ${ratios.join(', ')})`);
    result.shapes[shape] = {
      local: local.callsPerSec,
      remote: remote.callsPerSec,
      ratio_remote_vs_local: median(ratios),
      ratio_rounds: ratios,
      p50_ms: { local: local.p50, remote: remote.p50 },
      p99_ms: { local: local.p99, remote: remote.p99 },
      errors: { local: local.errors, remote: remote.errors },
      cpu: { local: local.cpu, remote: remote.cpu },
    };
  }
  console.log(JSON.stringify(result));
  return result;
}
