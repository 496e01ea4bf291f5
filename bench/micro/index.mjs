// `npm run bench -- micro [--only parse-client-frame,...] [--ms 400]`: every micro-benchmark of this folder (one
// function a file: `name` and `run`), timed by harness.mjs; one line each, then one JSON line. The pub/sub repository
// one (pubsub-repository.mjs) has its own command line and is not run here.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_CASES = new Set(['harness.mjs', 'index.mjs', 'pubsub-repository.mjs']);

export async function run(opts = {}) {
  const only = opts.only ? new Set(String(opts.only).split(',')) : undefined;
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.mjs') && !NOT_CASES.has(f))
    .filter((f) => !only || only.has(f.replace(/\.mjs$/, '')))
    .sort();
  const results = [];
  for (const file of files) {
    const c = await import(new URL(file, `file://${here}/`).href);
    const r = await measure(c.name, c.run, { ms: Number(opts.ms ?? 400) });
    results.push({ file, ...r });
    console.log(`${c.name.padEnd(48)} ${String(r.nsPerOp).padStart(9)} ns/op ${String(r.opsPerSec).padStart(11)} ops/s`);
  }
  console.log(JSON.stringify({ bench: 'micro', node: process.version, results }));
}
