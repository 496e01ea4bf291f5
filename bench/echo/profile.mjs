// `node bench/echo/profile.mjs [--target switchboard|direct|plain] [--connections 200 --window 1] [--duration 10]
// [--top 30] [--perf] [--checkout PATH]`: one Switchboard, one target of the echo bench, loaded by the bench's generator while the server runs
// under `node --cpu-prof`; prints the profile's self time per function and per file (bench/lib/cpuprofile-top.mjs)
// and where the .cpuprofile is. With `--perf`, the server also runs with `--perf-basic-prof` and Linux `perf` samples
// it (kernel included) over the measured window: `perf report`'s top symbols are printed too.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from '../lib/flags.mjs';
import { baselineCheckout } from '../lib/processes.mjs';
import { load, startSwitchboardChannels } from './servers.mjs';

const opts = parseFlags(process.argv.slice(2));
const key = opts.target ?? 'switchboard';
const dir = mkdtempSync(join(tmpdir(), 'sb-cpu-prof-'));
const serverStart = Date.now();
const perf = opts.perf === true;
const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(perf ? ['--perf-basic-prof'] : [])];
// `--checkout PATH` profiles another build (a baseline, as the echo bench's --baseline).
const sb = await startSwitchboardChannels('profile', [key], opts.checkout && baselineCheckout(opts.checkout), { nodeArgs });
const shape = { connections: Number(opts.connections ?? 200), window: Number(opts.window ?? 1) };
const o = { warmupMs: 2000, durationMs: Number(opts.duration ?? 10) * 1000 };
// The measured window, in seconds since the server (and its profile) started: after the connections and the warm-up.
const from = (Date.now() - serverStart + o.warmupMs + 500) / 1000;
const loading = load(sb.child, sb.targets[key], shape, o);
if (perf) perfRecord(sb.child.pid, from - (Date.now() - serverStart) / 1000, o.durationMs / 1000);
const result = await loading;
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
if (perf) printPerf();
process.exit(0);

// perf samples the server over the window (`perf record` in the background), its report read at the end.
function perfRecord(pid, delayS, seconds) {
  const data = join(dir, 'perf.data');
  setTimeout(
    () =>
      execFile(
        'perf',
        ['record', '-F', '999', '-g', '-o', data, '-p', String(pid), '--', 'sleep', String(seconds)],
        () => undefined,
      ),
    Math.max(0, delayS * 1000),
  );
}

function printPerf() {
  const data = join(dir, 'perf.data');
  const report = execFileSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--sort', 'dso,symbol'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const rows = report
    .split('\n')
    .filter((l) => /^\s+\d+\.\d+%/.test(l))
    .map((l) => l.replace(/\s+-\s+-\s*$/, '').replace(/\s{2,}/g, '  '));
  console.log(`\nperf (${data}), self time by dso and symbol, top ${opts.top ?? 30}:`);
  console.log(rows.slice(0, Number(opts.top ?? 30)).join('\n'));
}
