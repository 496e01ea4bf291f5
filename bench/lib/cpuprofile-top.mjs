#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof) by self time per function, top N first:
//   node bench/lib/cpuprofile-top.mjs FILE.cpuprofile [N=25] [--callers NAME]
// `--seconds A-B[,C-D…]` counts only the samples taken in those seconds since the profile started (e.g. a bench's
// measured phases, without the setup between them). `--callers NAME` adds the stacks (innermost 6 frames) under which functions named NAME spend their self time.
// Each row: % of all samples, ms of self time, function, and where it is: a Switchboard file of dist/ shown as its
// src/*.ts file and line (through the .js.map beside it), others as they are. A second table sums self time per file.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's mappings to generated line → [generated column, source index, source line][] (0-based). */
function decodeMappings(mappings) {
  const lines = [];
  let [src, srcLine] = [0, 0];
  for (const lineText of mappings.split(';')) {
    const segments = [];
    let col = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const values = [];
      let [value, shift] = [0, 0];
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          [value, shift] = [0, 0];
        }
      }
      col += values[0];
      if (values.length >= 4) {
        src += values[1];
        srcLine += values[2];
        segments.push([col, src, srcLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

const maps = new Map();
/** `url`:`line` (0-based, of the generated file) as src file:line (1-based), or the url itself. */
function where(url, line, column) {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!path) return '(native)';
  const at = path.indexOf('/dist/');
  if (at < 0 || !existsSync(`${path}.map`)) return `${path.replace(/.*\/node_modules\//, 'node_modules/')}:${line + 1}`;
  if (!maps.has(path)) {
    const map = JSON.parse(readFileSync(`${path}.map`, 'utf8'));
    maps.set(path, { sources: map.sources, lines: decodeMappings(map.mappings) });
  }
  const { sources, lines } = maps.get(path);
  const segs = lines[line] ?? [];
  const seg = segs.filter((s) => s[0] <= column).pop() ?? segs[0];
  const rel = path.slice(at + '/dist/'.length).replace(/\.js$/, '.ts');
  if (!seg) return `${rel}:?`;
  const source = sources[seg[1]]?.replace(/^(\.\.\/)+/, '') ?? rel;
  return `${source}:${seg[2] + 1}`;
}

const args = process.argv.slice(2);
const callersAt = args.indexOf('--callers');
const callersOf = callersAt >= 0 ? args.splice(callersAt, 2)[1] : undefined;
const secondsAt = args.indexOf('--seconds');
const spans =
  secondsAt >= 0
    ? args
        .splice(secondsAt, 2)[1]
        .split(',')
        .map((r) => r.split('-').map(Number))
    : undefined;
const [file, topArg] = args;
if (!file) {
  console.error('usage: node bench/lib/cpuprofile-top.mjs FILE.cpuprofile [N]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (spans && !spans.some(([from, to]) => at >= from * 1e6 && at < to * 1e6)) continue;
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map();
const byFile = new Map();
for (const [id, us] of selfUs) {
  const { callFrame: f } = byId.get(id);
  const loc = f.url ? where(f.url, f.lineNumber, f.columnNumber) : '';
  const key = `${f.functionName || '(anonymous)'}\t${loc}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const fileKey = loc ? loc.replace(/:[^:]*$/, '') : f.functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const print = (title, map, n) => {
  console.log(`${title} (total ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const [name, loc = ''] = key.split('\t');
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} % ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}  ${loc}`);
  }
};
print(`self time by function, top ${top}`, byFunction, top);
console.log('');
print('self time by file, top 15', byFile, 15);

if (callersOf) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map();
  for (const [id, us] of selfUs) {
    if (byId.get(id).callFrame.functionName !== callersOf) continue;
    const frames = [];
    for (let at = parent.get(id); at !== undefined && frames.length < 6; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      frames.push(`${f.functionName || '(anonymous)'} ${f.url ? where(f.url, f.lineNumber, f.columnNumber) : ''}`.trim());
    }
    const key = frames.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  console.log('');
  print(`self time of ${callersOf} by caller stack`, new Map([...stacks].map(([k, v]) => [`${k}\t`, v])), 10);
}
