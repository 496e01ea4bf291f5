// `npm run bench -- compression [--connections 2000] [--busy 200] [--payload 2048] [--rounds 3] [--warmup 2]
// [--duration 8]`: what permessage-deflate costs (docs/security.md, "Compression"). Each round starts Switchboard
// twice, fresh, with one plain JSON echo channel (zato.helpers.echo), `compression: false` then `true` (the order
// alternates each round), and the same client process (client.mjs, `ws` clients that offer permessage-deflate as
// browsers do) holding `connections`, each of which has sent one ~`payload`-byte JSON message (so that it has its
// zlib contexts). Reports per connection the memory after − before (RSS, V8 heap, external; after a forced GC, read
// by lib/memory-probe.cjs), and with `busy` of them one request in flight each: msgs/s, p50/p99 and the server's CPU
// per message (user + sys from /proc). Ratios are on/off per round, then their median. Ends with one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from '../lib/cpu.mjs';
import { memoryOf } from '../lib/memory.mjs';
import { freePort, killAll, spawnNode, startSwitchboard } from '../lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const probe = join(here, '..', 'lib', 'memory-probe.cjs');
const MODES = ['off', 'on'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startServer(compression, memoryFile) {
  const sb = await startSwitchboard(`compression-${compression ? 'on' : 'off'}`, {
    nodeArgs: ['--expose-gc', '--require', probe],
    fdLimit: 65_536,
    env: { BENCH_MEMORY_FILE: memoryFile, SWITCHBOARD_DEMO: '0' },
  });
  const port = await freePort();
  await sb.api('POST', '/api/channels/wsx', {
    name: 'cmp',
    address: `ws://127.0.0.1:${port}/cmp`,
    protocol: 'plain',
    dataFormat: 'json',
    service: 'zato.helpers.echo',
    compression,
    maxConnections: null,
    maxConnectionsPerIp: null,
  });
  for (let i = 0; (await sb.api('GET', '/api/channels/wsx/cmp')).runtime?.state !== 'listening'; i++) {
    if (i > 100) throw new Error('channel cmp is not listening');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ...sb, url: `ws://127.0.0.1:${port}/cmp` };
}

/** Starts the client and returns a reader of its JSON lines. */
function startClient(args) {
  const child = spawnNode(join(here, 'client.mjs'), [JSON.stringify(args)], {
    fdLimit: 65_536,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const queue = [];
  const waiting = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.phase === 'error') throw new Error(`client: ${msg.message}`);
    const w = waiting.shift();
    if (w) w(msg);
    else queue.push(msg);
  });
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)));
  return { child, next };
}

async function measure(mode, o) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-compression-'));
  const memoryFile = join(dir, 'memory.json');
  const sb = await startServer(mode === 'on', memoryFile);
  try {
    const before = await memoryOf(sb.child.pid, memoryFile);
    const client = startClient({
      url: sb.url,
      connections: o.connections,
      busy: o.busy,
      payloadBytes: o.payload,
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
    });
    const held = await client.next();
    if (held.negotiated !== (mode === 'on' ? o.connections : 0))
      throw new Error(`compression ${mode}: ${held.negotiated} of ${o.connections} connections negotiated it`);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await memoryOf(sb.child.pid, memoryFile);
    client.child.stdin.write('load\n');
    await client.next(); // measuring
    const cpu0 = cpuSeconds(sb.child.pid);
    const done = await client.next();
    const cpu1 = cpuSeconds(sb.child.pid);
    client.child.stdin.end();
    const per = (k) => (after[k] - before[k]) / o.connections;
    return {
      mode,
      connectMs: held.connectMs,
      rssPerConn: per('rss'),
      heapPerConn: per('heapUsed'),
      externalPerConn: per('external'),
      msgsPerSec: done.msgs / done.seconds,
      p50: done.p50,
      p99: done.p99,
      cpuUsPerMsg: ((cpu1 - cpu0) / done.msgs) * 1e6,
      payloadBytes: done.payloadBytes,
    };
  } finally {
    killAll();
    rmSync(sb.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;

export async function run(flags) {
  const o = {
    connections: Number(flags.connections ?? 2000),
    busy: Number(flags.busy ?? 200),
    payload: Number(flags.payload ?? 2048),
    rounds: Number(flags.rounds ?? 3),
    warmupMs: Number(flags.warmup ?? 2) * 1000,
    durationMs: Number(flags.duration ?? 8) * 1000,
  };
  console.log(
    `compression: ${o.connections} connections held (each sent one ~${o.payload}-byte JSON message), ${o.busy} × 1 in flight; ${o.rounds} rounds`,
  );
  const rounds = [];
  for (let r = 0; r < o.rounds; r++) {
    const order = r % 2 ? [...MODES].reverse() : MODES;
    const results = {};
    for (const mode of order) {
      results[mode] = await measure(mode, o);
      const m = results[mode];
      console.log(
        `  round ${r + 1} ${mode.padEnd(3)}: RSS ${kib(m.rssPerConn)}/conn, heap ${kib(m.heapPerConn)}, external ${kib(m.externalPerConn)}; ` +
          `${Math.round(m.msgsPerSec)} msgs/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, server CPU ${m.cpuUsPerMsg.toFixed(1)} µs/msg`,
      );
    }
    rounds.push(results);
  }
  const med = (mode, k) => median(rounds.map((r) => r[mode][k]));
  const ratio = (k) => median(rounds.map((r) => r.on[k] / r.off[k]));
  const diff = (k) => median(rounds.map((r) => r.on[k] - r.off[k]));
  console.log('\n| compression | RSS/conn | heap/conn | external/conn | msgs/s | p50 ms | p99 ms | server CPU µs/msg |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const mode of MODES)
    console.log(
      `| ${mode} | ${kib(med(mode, 'rssPerConn'))} | ${kib(med(mode, 'heapPerConn'))} | ${kib(med(mode, 'externalPerConn'))} | ` +
        `${Math.round(med(mode, 'msgsPerSec'))} | ${med(mode, 'p50').toFixed(2)} | ${med(mode, 'p99').toFixed(2)} | ${med(mode, 'cpuUsPerMsg').toFixed(1)} |`,
    );
  const summary = {
    bench: 'compression',
    connections: o.connections,
    busy: o.busy,
    payloadBytes: rounds[0].on.payloadBytes,
    rssPerConnExtra: Math.round(diff('rssPerConn')),
    cpuUsPerMsgExtra: Number(diff('cpuUsPerMsg').toFixed(1)),
    cpuRatio: Number(ratio('cpuUsPerMsg').toFixed(2)),
    throughputRatio: Number(ratio('msgsPerSec').toFixed(2)),
  };
  console.log(
    `\ncompression on − off: +${kib(summary.rssPerConnExtra)} RSS per connection, +${summary.cpuUsPerMsgExtra} µs server CPU per message ` +
      `(×${summary.cpuRatio}); msgs/s ×${summary.throughputRatio} (medians of per-round differences and ratios)`,
  );
  console.log(JSON.stringify(summary));
}
