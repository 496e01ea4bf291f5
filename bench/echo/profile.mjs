// `node bench/echo/profile.mjs [--target switchboard|direct|plain] [--connections 200 --window 1] [--duration 10]
// [--top 30]`: one Switchboard, one target of the echo bench, loaded by the bench's generator while the server runs
// under `node --cpu-prof`; prints the profile's self time per function and per file (bench/lib/cpuprofile-top.mjs)
// and where the .cpuprofile is.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, startSwitchboardChannels } from './servers.mjs';

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opts[argv[i].slice(2)] = argv[i + 1];
const key = opts.target ?? 'switchboard';
const dir = mkdtempSync(join(tmpdir(), 'sb-cpu-prof-'));
const serverStart = Date.now();
const sb = await startSwitchboardChannels('profile', [key], undefined, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const shape = { connections: Number(opts.connections ?? 200), window: Number(opts.window ?? 1) };
const o = { warmupMs: 2000, durationMs: Number(opts.duration ?? 10) * 1000 };
// The measured window, in seconds since the server (and its profile) started: after the connections and the warm-up.
const from = (Date.now() - serverStart + o.warmupMs + 500) / 1000;
const result = await load(sb.child, sb.targets[key], shape, o);
console.log(JSON.stringify(result));
sb.child.kill('SIGTERM');
await new Promise((resolve) => sb.child.once('exit', resolve));
sb.stop();
// One profile per thread: the main thread's is the largest (the watchdog's worker is all but idle).
const [file] = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => join(dir, f))
  .sort((a, b) => statSync(b).size - statSync(a).size);
console.log(file);
// Only the measured window: the server's start-up and the warm-up are left out.
const top = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cpuprofile-top.mjs');
const window = `${from.toFixed(1)}-${(from + o.durationMs / 1000).toFixed(1)}`;
process.stdout.write(
  execFileSync(process.execPath, [top, file, String(opts.top ?? 30), '--seconds', window], { encoding: 'utf8' }),
);
process.exit(0);
