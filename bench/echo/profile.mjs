// `node bench/echo/profile.mjs [--target switchboard|direct|plain] [--connections 200 --window 1] [--duration 10]
// [--top 30]`: one Switchboard, one target of the echo bench, loaded by the bench's generator while the server runs
// under `node --cpu-prof`; prints the profile's self time per function (bench/lib/cpu-profile.mjs) and where the
// .cpuprofile is. For perf, run the server with --perf-basic-prof yourself.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfTimes } from '../lib/cpu-profile.mjs';
import { load, startSwitchboardChannels } from './servers.mjs';

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opts[argv[i].slice(2)] = argv[i + 1];
const key = opts.target ?? 'switchboard';
const dir = mkdtempSync(join(tmpdir(), 'sb-cpu-prof-'));
const sb = await startSwitchboardChannels('profile', [key], undefined, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const shape = { connections: Number(opts.connections ?? 200), window: Number(opts.window ?? 1) };
const o = { warmupMs: 2000, durationMs: Number(opts.duration ?? 10) * 1000 };
const result = await load(sb.child, sb.targets[key], shape, o);
console.log(JSON.stringify(result));
sb.child.kill('SIGTERM');
await new Promise((resolve) => sb.child.once('exit', resolve));
sb.stop();
const file = join(
  dir,
  readdirSync(dir).find((f) => f.endsWith('.cpuprofile')),
);
const { rows, busySamples, gcShare } = selfTimes(file);
console.log(`${file}: ${busySamples} busy samples; GC ${(gcShare * 100).toFixed(1)} %`);
for (const r of rows.slice(0, Number(opts.top ?? 30))) console.log(`${(r.share * 100).toFixed(1).padStart(5)} %  ${r.key}`);
process.exit(0);
