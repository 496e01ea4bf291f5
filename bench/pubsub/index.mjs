// `npm run bench -- pubsub`: (a) fan-out, 1 publisher → N WebSocket subscribers on one non-GD topic, against the
// NATS server's own websocket listener driven by the same Node subscribers; (b) GD publishes committed per second.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { cpuTimes } from '../lib/cpu.mjs';
import { baselineCheckout, freePort, killAll, liftConnectionLimits, spawnTracked, startSwitchboard } from '../lib/processes.mjs';
import { measureGd } from './gd-publishers.mjs';
import { latencySummary } from './latency.mjs';

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
  const child = spawnTracked(natsBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `ws://127.0.0.1:${wsPort}`;
  for (let i = 0; i < 100; i++) {
    try {
      const ws = new WebSocket(url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.terminate();
      return { url, dir, child };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('nats-server did not open its websocket listener');
}

/** One subscriber process of `count` subscribers; `firstSid` numbers its NATS subscriptions (unique per run). */
export function startSubscribers(kind, url, count, expected, batch = 'default', firstSid = 0) {
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
        String(firstSid),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    let ready = false;
    // 'close', not 'exit': the report (a latency histogram, maybe a megabyte) may still be in the pipe at 'exit'.
    const result = new Promise((res, rej) => {
      child.once('close', (code) =>
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

/**
 * Calls `sendOne(i)` for i = 0 … count-1 evenly at `rate` per second: every millisecond timer tick sends what is
 * due by then (a batch per tick when the timer runs late), whatever the replies are doing.
 */
async function paced(count, rate, sendOne) {
  const t0 = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (sent < due) sendOne(sent++);
    if (sent < count) await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Publishes `count` messages over WSX, `window` at a time; with `rate`, paced at `rate` publications/s instead,
 * without waiting for replies before the next one is due.
 */
export async function publishSwitchboard(url, count, window, rate) {
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
  const publish = (i) =>
    send(
      { action: 'invoke-service', token },
      { service: 'zato.pubsub.pubapi.publish-message', request: { topic_name: TOPIC, data: { i, t: now() }, has_gd: false } },
    );
  if (rate) {
    const replies = [];
    await paced(count, rate, (i) => replies.push(publish(i)));
    await Promise.all(replies);
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (next < count) await publish(next++);
      }),
    );
  }
  ws.close();
}

/**
 * Publishes `count` messages to NATS, waiting for a PONG every `window` messages (flow control); with `rate`, paced
 * at `rate` publications/s instead, and one PING at the end.
 */
async function publishNats(url, count, window, rate) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let onPong = () => undefined;
  ws.on('message', (raw) => {
    const text = raw.toString();
    if (text.includes('PONG')) onPong();
    if (text.includes('PING')) ws.send('PONG\r\n');
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send('CONNECT {"verbose":false,"pedantic":false}\r\n');
  const ping = () => {
    const pong = new Promise((resolve) => (onPong = resolve));
    ws.send('PING\r\n');
    return pong;
  };
  const publish = (i) => {
    const payload = JSON.stringify({ i, t: now() });
    ws.send(`PUB bench.fanout ${Buffer.byteLength(payload)}\r\n${payload}\r\n`);
  };
  if (rate) {
    await paced(count, rate, publish);
    await ping();
  } else {
    for (let i = 0; i < count; i++) {
      publish(i);
      if ((i + 1) % window === 0) await ping();
    }
  }
  ws.close();
}

/**
 * One fan-out run: `subscribers` spread over `procs` subscriber processes, then `messages` publications, flat out or
 * (`rate`) paced. Deliveries/s are over all processes (first to last delivery); latency quantiles are merged. CPU
 * (user + system, from /proc for the server, self-reported by the subscriber processes and the publisher, which is
 * this process) is over the run's window: from the first publication until every subscriber process reported.
 */
export async function fanout(kind, url, { subscribers, messages, window, batch = 'default', procs = 2, serverPid, rate }) {
  const counts = Array.from({ length: procs }, (_, k) => Math.floor(subscribers / procs) + (k < subscribers % procs ? 1 : 0));
  const firstSids = counts.map((_, k) => counts.slice(0, k).reduce((a, b) => a + b, 0));
  const sides = await Promise.all(counts.map((n, k) => startSubscribers(kind, url, n, n * messages, batch, firstSids[k])));
  const timer = setTimeout(() => sides.forEach((x) => x.child.kill('SIGTERM')), 120_000);
  const server0 = cpuTimes(serverPid);
  const publisher0 = process.cpuUsage();
  const t0 = now();
  await (kind === 'nats' ? publishNats(url, messages, window, rate) : publishSwitchboard(url, messages, window, rate));
  const results = await Promise.all(sides.map((x) => x.result));
  const server1 = cpuTimes(serverPid);
  const publisherCpu = process.cpuUsage(publisher0);
  const seconds = (now() - t0) / 1000;
  clearTimeout(timer);
  const received = results.reduce((n, r) => n + r.received, 0);
  const spanMs = Math.max(...results.map((r) => r.last)) - Math.min(...results.map((r) => r.first));
  const [serverUser, serverSystem] = server0 && server1 ? [server1.user - server0.user, server1.system - server0.system] : [];
  const serverCpu = serverUser === undefined ? undefined : serverUser + serverSystem;
  const percent = (cpu) => Math.round((cpu / seconds) * 100);
  return {
    received,
    expected: subscribers * messages,
    spanMs,
    deliveredPerSec: Math.round(received / (spanMs / 1000)),
    ...latencySummary(results.map((r) => r.histogram)),
    // ns of server CPU per delivery, and each process's CPU as % of one core over the window.
    serverNsPerDelivery: serverCpu === undefined || !received ? undefined : Math.round((serverCpu / received) * 1e9),
    serverCpu: serverCpu === undefined ? undefined : percent(serverCpu),
    // The kernel's share of it (system time: socket writes, mostly).
    serverSystemShare: serverCpu ? +(serverSystem / serverCpu).toFixed(2) : undefined,
    subscriberNsPerDelivery: Math.round((results.reduce((n, r) => n + r.cpuSeconds, 0) / received) * 1e9),
    subscriberCpu: results.map((r) => percent(r.cpuSeconds)),
    // Deliveries per WebSocket message received: what one frame (one socket write of the server's, at least) carries.
    perFrame: +(received / results.reduce((n, r) => n + r.frames, 0)).toFixed(1),
    publisherCpu: percent((publisherCpu.user + publisherCpu.system) / 1e6),
    ...(rate ? { rate } : {}),
  };
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
/** The run whose `key` is the median of the list's. */
const pick = (list, key = 'deliveredPerSec') => list.find((r) => r[key] === median(list.map((x) => x[key])));
const fixed = (x, digits = 2) => (x === undefined || !Number.isFinite(x) ? undefined : +x.toFixed(digits));
/** Per-round ratios of `key`, a over b (or b over a with `inverse`: for costs, where less is better). */
const paired = (a, b, key, inverse = false) => a.map((r, i) => fixed(inverse ? b[i][key] / r[key] : r[key] / b[i][key]));
const fmt = (v, width, digits = 0) => String(v === undefined ? '-' : digits ? v.toFixed(digits) : v).padStart(width);

/** One row of the fan-out table. */
function row(label, r, width) {
  return (
    `${label.padEnd(width)} ${fmt(r.deliveredPerSec, 11)} ${fmt(r.serverNsPerDelivery, 10)} ${fmt(r.serverCpu, 8)} ` +
    `${fmt(r.subscriberNsPerDelivery, 10)} ${r.subscriberCpu.join('/').padStart(11)} ${fmt(r.publisherCpu, 6)} ` +
    `${fmt(r.perFrame, 8, 1)} ${fmt(r.p50, 8, 2)} ${fmt(r.p99, 8, 2)} ${fmt(r.p999, 8, 2)}`
  );
}

/** Profiles our server (`--cpu-prof DIR`): `rounds` flat-out fan-outs with the defaults and nothing else. */
async function profileFanout(sb, options, rounds) {
  for (let i = 0; i < rounds; i++) {
    const r = await fanout('switchboard', sb.demoUrl, options);
    console.error(
      `[bench] profiled round ${i + 1}/${rounds}: ${r.deliveredPerSec}/s, server ${r.serverNsPerDelivery} ns/delivery`,
    );
  }
  const exited = new Promise((resolve) => sb.child.once('exit', resolve));
  sb.child.kill('SIGTERM');
  await exited;
}

/** Case (a): prints its table, the ratios, and one JSON line. */
async function fanoutCase({ sb, base, nats, subscribers, messages, window, procs, batch, rounds, pacedRate }) {
  const options = (server, extra = {}) => ({
    subscribers,
    messages,
    window,
    procs,
    batch,
    serverPid: server.child.pid,
    ...extra,
  });
  // The servers take turns within a round; ratios are paired per round (seconds apart), then the median is taken,
  // because this VM's speed drifts by ±15 % and more from minute to minute.
  const runs = { ours: [], base: [], oursSingle: [], theirs: [], pacedOurs: [], pacedBase: [], pacedTheirs: [] };
  for (let i = 0; i < rounds; i++) {
    // Ours and the baseline swap places every round, so neither always runs on the warmer or the cooler machine.
    const pair = [
      async () => runs.ours.push(await fanout('switchboard', sb.demoUrl, options(sb))),
      ...(base ? [async () => runs.base.push(await fanout('switchboard', base.demoUrl, options(base)))] : []),
    ];
    for (const step of i % 2 ? pair.reverse() : pair) await step();
    runs.oursSingle.push(await fanout('switchboard', sb.demoUrl, options(sb, { batch: 1 })));
    runs.theirs.push(await fanout('nats', nats.url, options(nats)));
    // Paced: half NATS's flat-out deliveries of this round, unless `--paced-rate` says how many publications/s.
    const rate = pacedRate ?? Math.max(1, Math.round(runs.theirs[i].deliveredPerSec / subscribers / 2));
    const paced = [
      async () => runs.pacedTheirs.push(await fanout('nats', nats.url, options(nats, { rate }))),
      async () => runs.pacedOurs.push(await fanout('switchboard', sb.demoUrl, options(sb, { rate }))),
      ...(base ? [async () => runs.pacedBase.push(await fanout('switchboard', base.demoUrl, options(base, { rate })))] : []),
    ];
    for (const step of i % 2 ? paced.reverse() : paced) await step();
    const baseNote = base ? `, switchboard@base ${runs.base[i].deliveredPerSec}` : '';
    console.error(
      `[bench] round ${i + 1}/${rounds}: switchboard ${runs.ours[i].deliveredPerSec}/s ${runs.ours[i].serverNsPerDelivery} ns${baseNote}, ` +
        `one per frame ${runs.oursSingle[i].deliveredPerSec}, nats ${runs.theirs[i].deliveredPerSec}/s ${runs.theirs[i].serverNsPerDelivery} ns; ` +
        `paced ${rate}/s p99 switchboard ${runs.pacedOurs[i].p99} ms, nats ${runs.pacedTheirs[i].p99} ms`,
    );
  }
  const ratios = {
    default: paired(runs.ours, runs.theirs, 'deliveredPerSec'),
    single: paired(runs.oursSingle, runs.theirs, 'deliveredPerSec'),
    cpu: paired(runs.ours, runs.theirs, 'serverNsPerDelivery', true),
    cpuSingle: paired(runs.oursSingle, runs.theirs, 'serverNsPerDelivery', true),
    cpuPaced: paired(runs.pacedOurs, runs.pacedTheirs, 'serverNsPerDelivery', true),
    pacedP50: paired(runs.pacedOurs, runs.pacedTheirs, 'p50', true),
    pacedP99: paired(runs.pacedOurs, runs.pacedTheirs, 'p99', true),
    pacedP999: paired(runs.pacedOurs, runs.pacedTheirs, 'p999', true),
    flatP99: paired(runs.ours, runs.theirs, 'p99', true),
    ...(base
      ? {
          base: paired(runs.ours, runs.base, 'deliveredPerSec'),
          cpuBase: paired(runs.ours, runs.base, 'serverNsPerDelivery', true),
          pacedP99Base: paired(runs.pacedOurs, runs.pacedBase, 'p99', true),
        }
      : {}),
  };
  const m = Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, median(v)]));
  const [ours, oursSingle, theirs] = [pick(runs.ours), pick(runs.oursSingle), pick(runs.theirs)];
  const [pacedOurs, pacedTheirs] = [pick(runs.pacedOurs, 'p99'), pick(runs.pacedTheirs, 'p99')];
  const batchLabel = batch === 'default' ? 'default batch (500)' : `delivery_batch_size ${batch}`;
  const width = base ? 38 : 32;
  const header = (title) =>
    `${title.padEnd(width)} ${'deliver/s'.padStart(11)} ${'srv ns/dl'.padStart(10)} ${'srv %'.padStart(8)} ` +
    `${'subs ns/dl'.padStart(10)} ${'subs % each'.padStart(11)} ${'pub %'.padStart(6)} ${'dl/frame'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'p99.9 ms'.padStart(8)}`;
  console.log(
    `\n(a) fan-out: 1 publisher → ${subscribers} WebSocket subscribers in ${procs} processes, ${messages} non-GD messages ` +
      `(${subscribers * messages} deliveries); median runs of ${rounds} rounds. CPU: user+sys over the run (first ` +
      `publication to last delivery), ns per delivery and % of one core; the publisher is the bench process.`,
  );
  console.log(header(`flat out (${window} publications in flight)`));
  console.log(row(`switchboard, ${batchLabel}`, ours, width));
  if (base) console.log(row(`switchboard@base, ${batchLabel}`, pick(runs.base), width));
  console.log(row('switchboard, one per frame', oursSingle, width));
  console.log(row('nats', theirs, width));
  const rates = runs.pacedTheirs.map((r) => r.rate);
  console.log(header(`paced: ${pacedRate ? `${pacedRate} publ/s` : `${median(rates)} publ/s (½ NATS)`}`));
  console.log(row(`switchboard, ${batchLabel}`, pacedOurs, width));
  if (base) console.log(row(`switchboard@base, ${batchLabel}`, pick(runs.pacedBase, 'p99'), width));
  console.log(row('nats', pacedTheirs, width));
  const rs = (k) => `(rounds: ${ratios[k].join(', ')})`;
  console.log('ratios, median of the per-round ratios:');
  console.log(
    `  deliveries/s switchboard/nats, flat out: ${m.default} ${rs('default')}; target >= 0.8 with the ${batchLabel}` +
      `${m.default >= 0.8 ? ' (met)' : ' (NOT met)'}; one per frame ${m.single} ${rs('single')}`,
  );
  console.log(
    `  server CPU per delivery nats/switchboard (>= 1: Switchboard uses no more), flat out: ${m.cpu} ${rs('cpu')}; ` +
      `target >= 1.0${m.cpu >= 1 ? ' (met)' : ' (NOT met)'}; one per frame ${m.cpuSingle}; paced ${m.cpuPaced} ${rs('cpuPaced')}`,
  );
  console.log(
    `  publish-to-receive nats/switchboard (>= 1: Switchboard's is no higher), paced: p50 ${m.pacedP50} ${rs('pacedP50')}, ` +
      `p99 ${m.pacedP99} ${rs('pacedP99')}, p99.9 ${m.pacedP999} ${rs('pacedP999')}; flat out p99 ${m.flatP99} ${rs('flatP99')}`,
  );
  if (base)
    console.log(
      `  new/base (>= 1: this checkout is no worse): deliveries/s ${m.base} ${rs('base')}, server CPU per delivery ` +
        `${m.cpuBase} ${rs('cpuBase')}, paced p99 ${m.pacedP99Base} ${rs('pacedP99Base')}`,
    );
  console.log('per round (flat out: deliveries/s, server ns/delivery; paced: rate, p50/p99/p99.9 ms):');
  for (let i = 0; i < rounds; i++) {
    const f = (r) =>
      `${r.deliveredPerSec}/s ${r.serverNsPerDelivery} ns (sys ${r.serverSystemShare}, ${r.perFrame}/frame, subs ${r.subscriberCpu.join('/')} %, pub ${r.publisherCpu} %)`;
    const p = (r) => `${r.p50}/${r.p99}/${r.p999}`;
    const b = base ? `; base ${f(runs.base[i])}, paced ${p(runs.pacedBase[i])}` : '';
    console.log(
      `  ${i + 1}: switchboard ${f(runs.ours[i])}, nats ${f(runs.theirs[i])}, one per frame ${f(runs.oursSingle[i])}; ` +
        `paced ${runs.pacedTheirs[i].rate}/s switchboard ${p(runs.pacedOurs[i])} (${runs.pacedOurs[i].serverNsPerDelivery} ns), ` +
        `nats ${p(runs.pacedTheirs[i])} (${runs.pacedTheirs[i].serverNsPerDelivery} ns)${b}`,
    );
  }
  const latency = (r) => ({ p50: r.p50, p99: r.p99, p999: r.p999 });
  const cpuOf = (r) => ({
    server_ns_per_delivery: r.serverNsPerDelivery,
    server_percent: r.serverCpu,
    subscriber_ns_per_delivery: r.subscriberNsPerDelivery,
    subscriber_percent: r.subscriberCpu,
    publisher_percent: r.publisherCpu,
    deliveries_per_frame: r.perFrame,
    server_system_share: r.serverSystemShare,
  });
  console.log(
    JSON.stringify({
      bench: 'pubsub-fanout',
      switchboard: ours.deliveredPerSec,
      nats: theirs.deliveredPerSec,
      ratio_vs_nats: m.default,
      ...(base ? { base: pick(runs.base).deliveredPerSec, ratio_vs_base: m.base, cpu_ratio_vs_base: m.cpuBase } : {}),
      switchboard_one_per_frame: oursSingle.deliveredPerSec,
      ratio_vs_nats_one_per_frame: m.single,
      ratio_rounds: ratios,
      delivery_batch_size: batch === 'default' ? 500 : Number(batch),
      p99_ms: { switchboard: ours.p99, switchboard_one_per_frame: oursSingle.p99, nats: theirs.p99 },
      latency_ms: { switchboard: latency(ours), switchboard_one_per_frame: latency(oursSingle), nats: latency(theirs) },
      cpu: { switchboard: cpuOf(ours), switchboard_one_per_frame: cpuOf(oursSingle), nats: cpuOf(theirs) },
      cpu_ratio_vs_nats: m.cpu,
      paced: {
        rate: pacedRate ?? median(rates),
        rates,
        latency_ms: { switchboard: latency(pacedOurs), nats: latency(pacedTheirs) },
        cpu: { switchboard: cpuOf(pacedOurs), nats: cpuOf(pacedTheirs) },
        ratio_vs_nats: { p50: m.pacedP50, p99: m.pacedP99, p999: m.pacedP999, cpu: m.cpuPaced },
      },
      subscribers,
      subscriber_procs: procs,
      messages,
      window,
      rounds,
      target: 0.8,
      target_cpu: 1.0,
    }),
  );
}

/** Runs both cases (`--cases a,b`); prints tables, ratios, and one JSON line per case. */
export async function run(opts = {}) {
  const subscribers = Number(opts.subscribers ?? 1000);
  const messages = Number(opts.messages ?? 2000);
  const window = Number(opts.window ?? 32);
  const procs = Number(opts['subscriber-procs'] ?? 2);
  const pacedRate = opts['paced-rate'] === undefined ? undefined : Number(opts['paced-rate']);
  const cases = String(opts.cases ?? 'a,b').split(',');
  // `--cpu-prof DIR`: our server runs under node --cpu-prof and writes its profile to DIR when it exits; only case
  // (a)'s flat-out runs with the defaults, `--rounds` times.
  const profileDir = typeof opts['cpu-prof'] === 'string' ? opts['cpu-prof'] : undefined;
  // `--baseline PATH`: the Switchboard built in another checkout runs beside ours as `switchboard@base`, in the same
  // rotation, and each case prints new/base ratios per round.
  const baseline = baselineCheckout(opts.baseline);
  const sb = await startSwitchboard('pubsub', { nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  const base = baseline && !profileDir ? await startSwitchboard('pubsub-base', { checkout: baseline }) : undefined;
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
    if (profileDir) {
      await profileFanout(sb, { subscribers, messages, window, procs, batch, serverPid: sb.child.pid }, rounds);
      console.log(`profile of the server written to ${profileDir}`);
      return;
    }
    if (cases.includes('a')) await fanoutCase({ sb, base, nats, subscribers, messages, window, procs, batch, rounds, pacedRate });
    if (!cases.includes('b')) return;

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
