// Memory read inside a benchmarked server by the probe preloaded into it (memory-probe.cjs): SIGUSR2 → gc() →
// process.memoryUsage() written to $BENCH_MEMORY_FILE.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** A file's text, trimmed, or undefined when it cannot be read. */
export function readText(path) {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asks the probe in `pid` for a GC and its memory; with `snapshot`, a heap snapshot written there first. */
export async function memoryOf(pid, file, snapshot) {
  const last = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).seq : 0;
  if (snapshot) writeFileSync(`${file}.snapshot`, snapshot);
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + (snapshot ? 600_000 : 60_000);
  for (;;) {
    await sleep(50);
    const text = readText(file);
    if (text) {
      const m = JSON.parse(text);
      if (m.seq > last) {
        if (!m.gc) throw new Error('the server was not started with --expose-gc');
        return m;
      }
    }
    if (Date.now() > deadline) throw new Error(`no memory reading from ${pid}`);
  }
}
