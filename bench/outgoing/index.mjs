// `npm run bench -- outgoing`: invokes from a service through an outgoing connection (poolSize 1 and 4) to a
// Switchboard channel in another process, against a bare `ws` client driving the same channel, in one run.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAll, runJson, startSwitchboard } from '../lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function runBare(url, { concurrency, durationMs, warmupMs }) {
  return runJson(join(here, 'bare-client.mjs'), [url, String(concurrency), String(durationMs), String(warmupMs)]);
}

/** Runs the case and prints a table, the ratios, and one JSON line. */
export async function run(opts = {}) {
  const concurrency = Number(opts.concurrency ?? 64);
  const durationMs = Number(opts.duration ?? 5) * 1000;
  const warmupMs = Number(opts.warmup ?? 1) * 1000;
  const load = { concurrency, durationMs, warmupMs };

  const remote = await startSwitchboard('remote');
  const servicesDir = mkdtempSync(join(tmpdir(), 'sb-bench-services-'));
  cpSync(join(here, 'driver-service.mjs'), join(servicesDir, 'driver-service.mjs'));
  const caller = await startSwitchboard('caller', { servicesDir });
  const target = remote.demoUrl;
  const api = (server, method, path, body) => server.api(method, path, body);
  try {
    const results = {};
    for (const poolSize of [1, 4]) {
      const name = `bench-pool-${poolSize}`;
      await api(caller, 'POST', '/api/outgoing/wsx', { name, address: target, isZato: true, poolSize, responseTimeout: 30 });
      for (let i = 0; i < 100; i++) {
        const conn = await api(caller, 'GET', `/api/outgoing/wsx/${name}`);
        if (conn.runtime.connected === poolSize) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const { response } = await api(caller, 'POST', '/api/services/bench.outgoing-driver/invoke', {
        request: { conn: name, ...load },
      });
      results[`pool${poolSize}`] = response;
      await api(caller, 'DELETE', `/api/outgoing/wsx/${name}`);
    }
    results.bare = await runBare(target, load);

    const rows = [
      ['outgoing, poolSize 1', results.pool1],
      ['outgoing, poolSize 4', results.pool4],
      ['bare ws client', results.bare],
    ];
    console.log(
      `\noutgoing: ${concurrency} requests in flight, ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up`,
    );
    console.log('case                     msgs/s     p50 ms    p99 ms   errors');
    for (const [label, r] of rows) {
      console.log(
        `${label.padEnd(22)} ${String(r.msgsPerSec).padStart(8)} ${r.p50.toFixed(2).padStart(10)} ${r.p99.toFixed(2).padStart(9)} ${String(r.errors).padStart(8)}`,
      );
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
