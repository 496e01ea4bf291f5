// `npm run bench -- pubsub`: (a) fan-out, 1 publisher → N WebSocket subscribers on one non-GD topic, against the
// NATS server's own websocket listener driven by the same Node subscribers; (b) GD publishes committed per second.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { baselineCheckout, freePort, killAll, liftConnectionLimits, spawnTracked, startSwitchboard } from '../lib/processes.mjs';
import { measureGd } from './gd-publishers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const TOPIC = '/bench/fanout';
const now = () => performance.timeOrigin + performance.now();

function natsBinary() {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error('nats-server not found: apt-get install nats-server');
}

async function startNats() {
  const [port, wsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-nats-'));
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, `listen: 127.0.0.1:${port}\nwebsocket {\n  listen: "127.0.0.1:${wsPort}"\n  no_tls: true\n}\n`);
  spawnTracked(natsBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `ws://127.0.0.1:${wsPort}`;
  for (let i = 0; i < 100; i++) {
    try {
      const ws = new WebSocket(url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.terminate();
      return { url, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('nats-server did not open its websocket listener');
}

export function startSubscribers(kind, url, count, expected, batch = 'default') {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(
      process.execPath,
      [
        join(here, 'subscribers.mjs'),
        kind,
        url,
        String(count),
        kind === 'nats' ? 'bench.fanout' : TOPIC,
        String(expected),
        String(batch),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    let ready = false;
    const result = new Promise((res, rej) => {
      child.once('exit', (code) =>
        code === 0 ? res(JSON.parse(out.trim().split('\n').pop())) : rej(new Error(`subscribers exited with ${code}`)),
      );
    });
    child.stdout.on('data', (d) => {
      out += d;
      if (!ready && out.includes('ready\n')) {
        ready = true;
        resolve({ child, result });
      }
    });
    child.once('exit', () => ready || reject(new Error('subscribers exited before they were ready')));
  });
}

/** Publishes `count` messages over WSX, `window` at a time. */
export async function publishSwitchboard(url, count, window) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map();
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw);
    waiting.get(frame.meta.in_reply_to)?.(frame);
    waiting.delete(frame.meta.in_reply_to);
  });
  let seq = 0;
  const send = (meta, data) =>
    new Promise((resolve) => {
      const id = `p${++seq}`;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ meta: { id, timestamp: '', ...meta }, ...(data ? { data } : {}) }));
    });
  const token = (await send({ action: 'create-session' })).data.token;
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) {
        const i = next++;
        await send(
          { action: 'invoke-service', token },
          { service: 'zato.pubsub.pubapi.publish-message', request: { topic_name: TOPIC, data: { i, t: now() }, has_gd: false } },
        );
      }
    }),
  );
  ws.close();
}

/** Publishes `count` messages to NATS, waiting for a PONG every `window` messages (flow control). */
async function publishNats(url, count, window) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let onPong = () => undefined;
  ws.on('message', (raw) => {
    const text = raw.toString();
    if (text.includes('PONG')) onPong();
    if (text.includes('PING')) ws.send('PONG\r\n');
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send('CONNECT {"verbose":false,"pedantic":false}\r\n');
  for (let i = 0; i < count; i++) {
    const payload = JSON.stringify({ i, t: now() });
    ws.send(`PUB bench.fanout ${Buffer.byteLength(payload)}\r\n${payload}\r\n`);
    if ((i + 1) % window === 0) {
      const pong = new Promise((resolve) => (onPong = resolve));
      ws.send('PING\r\n');
      await pong;
    }
  }
  ws.close();
}

export async function fanout(kind, url, { subscribers, messages, window, batch = 'default' }) {
  const expected = subscribers * messages;
  const { child, result } = await startSubscribers(kind, url, subscribers, expected, batch);
  const timer = setTimeout(() => child.kill('SIGTERM'), 120_000);
  await (kind === 'nats' ? publishNats(url, messages, window) : publishSwitchboard(url, messages, window));
  const stats = await result;
  clearTimeout(timer);
  return { ...stats, expected, deliveredPerSec: Math.round(stats.received / (stats.spanMs / 1000)) };
}

/** Runs both cases; prints tables, ratios, and one JSON line per case. */
export async function run(opts = {}) {
  const subscribers = Number(opts.subscribers ?? 1000);
  const messages = Number(opts.messages ?? 2000);
  const window = Number(opts.window ?? 32);
  // `--baseline PATH`: the Switchboard built in another checkout runs beside ours as `switchboard@base`, in the same
  // rotation, and each case prints new/base ratios per round.
  const baseline = baselineCheckout(opts.baseline);
  const sb = await startSwitchboard('pubsub');
  const base = baseline ? await startSwitchboard('pubsub-base', { checkout: baseline }) : undefined;
  const nats = await startNats();
  try {
    for (const server of [sb, base].filter(Boolean)) {
      // A thousand subscribers from one address: past the demo channel's default connection limits.
      await liftConnectionLimits(server, 'demo');
      await server.api('POST', '/api/pubsub/topics', { name: TOPIC, hasGd: false, maxDepthNonGd: 1_000_000 });
    }
    // Subscribers use the protocol's defaults, as a Zato client does: up to `delivery_batch_size` (500) messages per
    // frame, which is how a Zato-protocol subscriber gets what NATS does by itself, many messages per WebSocket
    // frame. A frame holds what is queued when the subscriber's turn comes; nothing waits to fill it.
    // For comparison, the same subscribers asking for one message per frame (`delivery_batch_size: 1`).
    const batch = opts.batch ?? 'default';
    const rounds = Number(opts.rounds ?? 5);
    // The servers take turns within a round; ratios are paired per round (seconds apart), then the median is taken,
    // because this VM's speed drifts by ±15 % and more from minute to minute.
    const runs = { ours: [], base: [], oursSingle: [], theirs: [] };
    for (let i = 0; i < rounds; i++) {
      // Ours and the baseline swap places every round, so neither always runs on the warmer or the cooler machine.
      const pair = [
        () => fanout('switchboard', sb.demoUrl, { subscribers, messages, window, batch }).then((r) => runs.ours.push(r)),
        ...(base
          ? [() => fanout('switchboard', base.demoUrl, { subscribers, messages, window, batch }).then((r) => runs.base.push(r))]
          : []),
      ];
      for (const step of i % 2 ? pair.reverse() : pair) await step();
      runs.oursSingle.push(await fanout('switchboard', sb.demoUrl, { subscribers, messages, window, batch: 1 }));
      runs.theirs.push(await fanout('nats', nats.url, { subscribers, messages, window }));
      const baseNote = base ? `, switchboard@base ${runs.base[i].deliveredPerSec}` : '';
      console.error(
        `[bench] round ${i + 1}/${rounds}: switchboard ${runs.ours[i].deliveredPerSec}${baseNote}, one per frame ${runs.oursSingle[i].deliveredPerSec}, nats ${runs.theirs[i].deliveredPerSec}`,
      );
    }
    const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    /** The run whose `key` is the median of the list's. */
    const pick = (list, key = 'deliveredPerSec') => list.find((r) => r[key] === median(list.map((x) => x[key])));
    const [ours, oursSingle, theirs] = [pick(runs.ours), pick(runs.oursSingle), pick(runs.theirs)];
    const pairedRounds = (list, against = runs.theirs) =>
      list.map((r, i) => +(r.deliveredPerSec / against[i].deliveredPerSec).toFixed(2));
    const ratios = {
      default: pairedRounds(runs.ours),
      single: pairedRounds(runs.oursSingle),
      ...(base ? { base: pairedRounds(runs.ours, runs.base) } : {}),
    };
    const batchLabel = batch === 'default' ? 'default batch (500)' : `delivery_batch_size ${batch}`;
    console.log(
      `\n(a) fan-out: 1 publisher → ${subscribers} WebSocket subscribers, ${messages} non-GD messages (${subscribers * messages} deliveries); median of ${rounds} rounds`,
    );
    console.log(`${'server'.padEnd(base ? 38 : 32)} delivered/s   received     p50 ms    p99 ms`);
    const baseRow = base ? [[`switchboard@base, ${batchLabel}`, pick(runs.base)]] : [];
    for (const [label, r] of [
      [`switchboard, ${batchLabel}`, ours],
      ...baseRow,
      ['switchboard, one per frame', oursSingle],
      ['nats', theirs],
    ]) {
      console.log(
        `${label.padEnd(base ? 38 : 32)} ${String(r.deliveredPerSec).padStart(12)} ${String(r.received).padStart(10)} ${r.p50.toFixed(1).padStart(10)} ${r.p99.toFixed(1).padStart(9)}`,
      );
    }
    console.log(
      `ratio vs NATS: ${median(ratios.default)} with the ${batchLabel} (rounds: ${ratios.default.join(', ')}; target >= 0.7), ` +
        `${median(ratios.single)} with one message per frame (rounds: ${ratios.single.join(', ')})`,
    );
    if (base)
      console.log(
        `ratio new/base: ${median(ratios.base)} with the ${batchLabel} (rounds: ${ratios.base.join(', ')}; below 1 means this checkout is slower)`,
      );
    console.log(
      JSON.stringify({
        bench: 'pubsub-fanout',
        switchboard: ours.deliveredPerSec,
        nats: theirs.deliveredPerSec,
        ratio_vs_nats: median(ratios.default),
        ...(base ? { base: pick(runs.base).deliveredPerSec, ratio_vs_base: median(ratios.base) } : {}),
        switchboard_one_per_frame: oursSingle.deliveredPerSec,
        ratio_vs_nats_one_per_frame: median(ratios.single),
        ratio_rounds: ratios,
        delivery_batch_size: batch === 'default' ? 500 : Number(batch),
        p99_ms: { switchboard: ours.p99, switchboard_one_per_frame: oursSingle.p99, nats: theirs.p99 },
        subscribers,
        messages,
        rounds,
        target: 0.7,
      }),
    );

    // Publications pile up for no subscriber: room for them past the default 64 MiB per topic.
    for (const server of [sb, base].filter(Boolean)) {
      await server.api('POST', '/api/pubsub/topics', { name: '/bench/gd', maxDepthGd: 100_000_000, maxBytesGd: 16 * 1024 ** 3 });
    }
    // Each window is measured `rounds` times (5 s each) and the median run reported, for the same drift as above.
    console.log(`\n(b) GD publishes committed per second, 8 publishers; median of ${rounds} runs of 5 s`);
    const gd = [];
    const measure = (server, w) =>
      measureGd({ url: server.demoUrl, topic: '/bench/gd', publishers: 8, window: w, durationMs: 5000 });
    for (const w of [1, 16]) {
      const tries = [];
      const baseTries = [];
      for (let i = 0; i < rounds; i++) {
        if (base && i % 2) baseTries.push(await measure(base, w));
        tries.push(await measure(sb, w));
        if (base && !(i % 2)) baseTries.push(await measure(base, w));
      }
      const r = pick(tries, 'committedPerSec');
      const baseRatios = baseTries.map((b, i) => +(tries[i].committedPerSec / b.committedPerSec).toFixed(2));
      gd.push({
        ...r,
        all: tries.map((t) => t.committedPerSec),
        ...(base ? { base: pick(baseTries, 'committedPerSec').committedPerSec, baseRatios } : {}),
      });
      console.log(
        `window ${String(w).padStart(2)} (${8 * w} in flight): ${r.committedPerSec} committed/s (runs: ${tries.map((t) => t.committedPerSec).join(', ')}), p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${tries.reduce((n, t) => n + t.errors, 0)}`,
      );
      if (base) {
        const b = pick(baseTries, 'committedPerSec');
        console.log(
          `  switchboard@base: ${b.committedPerSec} committed/s (runs: ${baseTries.map((t) => t.committedPerSec).join(', ')}); ratio new/base: ${median(baseRatios)} (rounds: ${baseRatios.join(', ')})`,
        );
      }
    }
    const gdBase = base
      ? {
          base: gd[1].base,
          ratio_vs_base: median(gd[1].baseRatios),
          ratio_rounds_vs_base: gd[1].baseRatios,
          sequential_ratio_vs_base: median(gd[0].baseRatios),
        }
      : {};
    console.log(
      JSON.stringify({
        bench: 'pubsub-gd',
        committed_per_s: gd[1].committedPerSec,
        runs: gd[1].all,
        sequential_committed_per_s: gd[0].committedPerSec,
        ...gdBase,
        publishers: 8,
        window: 16,
        target: 20000,
      }),
    );
  } finally {
    killAll();
    rmSync(sb.dir, { recursive: true, force: true });
    if (base) rmSync(base.dir, { recursive: true, force: true });
    rmSync(nats.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
