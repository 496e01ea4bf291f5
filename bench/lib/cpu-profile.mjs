// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, the top N, as the share of all samples
// that were not idle. `node bench/lib/cpu-profile.mjs FILE [--top 25]` prints the table.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** Self time per function (name, file:line) of a .cpuprofile, sorted, with its share of the busy samples. */
export function selfTimes(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const byFunction = new Map();
  let busy = 0;
  let gc = 0;
  for (const [id, count] of counts) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || '(anonymous)';
    if (name === '(garbage collector)') gc += count;
    if (IDLE.has(name) && name !== '(garbage collector)') continue;
    busy += count;
    const where = callFrame.url ? `${shorten(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const rows = [...byFunction].sort((a, b) => b[1] - a[1]).map(([key, n]) => ({ key, share: n / busy }));
  return { rows, busySamples: busy, gcShare: gc / busy };
}

function shorten(url) {
  return url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, '')
    .replace(/.*\/dist\/src\//, 'src/');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, ...rest] = process.argv.slice(2);
  const top = Number(rest[rest.indexOf('--top') + 1] || 25);
  const { rows, busySamples, gcShare } = rest.includes('--total') ? totalTimes(file) : selfTimes(file);
  console.log(`${busySamples} busy samples${gcShare === undefined ? '' : `; GC ${(gcShare * 100).toFixed(1)} %`}`);
  for (const r of rows.slice(0, top)) console.log(`${(r.share * 100).toFixed(1).padStart(5)} %  ${r.key}`);
}

/** Total (inclusive) time per function: each sample counted once for every distinct function on its stack. */
export function totalTimes(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const totals = new Map();
  let busy = 0;
  for (const [id, count] of counts) {
    const leaf = nodes.get(id).callFrame.functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    busy += count;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { callFrame } = nodes.get(at);
      const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${shorten(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + count);
    }
  }
  return { rows: [...totals].sort((a, b) => b[1] - a[1]).map(([key, n]) => ({ key, share: n / busy })), busySamples: busy };
}
