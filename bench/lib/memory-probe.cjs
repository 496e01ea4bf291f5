// Preloaded into a server a bench measures (`node --expose-gc --require bench/lib/memory-probe.cjs …`), so that neither
// Switchboard's src/ nor the naive server has to know about it. On SIGUSR2 it runs a full GC (twice: what the first
// frees may let the second free more), then writes `{ seq, rss, heapTotal, heapUsed, external, arrayBuffers }` to
// $BENCH_MEMORY_FILE (through a rename, so a reader never sees half of it). If $BENCH_MEMORY_FILE.snapshot exists
// and names a path, a heap snapshot is written there first (and the request file removed).
'use strict';
const { existsSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const v8 = require('node:v8');

const file = process.env.BENCH_MEMORY_FILE;
let seq = 0;
if (file) {
  process.on('SIGUSR2', () => {
    const request = `${file}.snapshot`;
    if (existsSync(request)) {
      const path = readFileSync(request, 'utf8').trim();
      rmSync(request, { force: true });
      if (path) v8.writeHeapSnapshot(path);
    }
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const m = process.memoryUsage();
    writeFileSync(`${file}.tmp`, JSON.stringify({ seq: ++seq, gc: typeof globalThis.gc === 'function', ...m }));
    renameSync(`${file}.tmp`, file);
  });
}
