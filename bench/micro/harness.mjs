// The micro-benchmarks' one timing loop: `fn` run in batches until `ms` have passed, after a warm-up, five times;
// reported as the median run's nanoseconds per call and calls per second. Numbers for the claims in comments, not
// for CI: they move with the machine, so nothing asserts on them.

const dist = new URL('../../dist/src/', import.meta.url);

/** Imports a module of the built server (`npm run build` first), e.g. `await built('protocol/index.js')`. */
export function built(path) {
  return import(new URL(path, dist).href);
}

/** Times `fn` (sync or async); resolves with `{ name, nsPerOp, opsPerSec, runs }`. */
export async function measure(name, fn, { ms = 400, batch = 1000 } = {}) {
  const sink = [];
  const loop = async (until) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < until) {
      for (let i = 0; i < batch; i++) {
        const r = fn(i);
        if (r instanceof Promise) await r;
        else if (i === 0) sink.push(r);
      }
      n += batch;
    }
    return { n, elapsed: performance.now() - t0 };
  };
  await loop(ms / 2);
  const runs = [];
  for (let k = 0; k < 5; k++) {
    const { n, elapsed } = await loop(ms);
    runs.push((elapsed * 1e6) / n);
  }
  runs.sort((a, b) => a - b);
  const nsPerOp = runs[2];
  if (sink.length > 1e9) console.log(sink.length); // keeps the results alive for the optimizer
  return { name, nsPerOp: +nsPerOp.toFixed(1), opsPerSec: Math.round(1e9 / nsPerOp), runs: runs.map((r) => +r.toFixed(1)) };
}
