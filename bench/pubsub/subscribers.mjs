// N WebSocket subscribers in one process, for Switchboard (WSX) or NATS (its websocket listener). Prints
// "ready" once all are subscribed; once `expected` messages arrived (or on SIGTERM) prints what they received:
// count, first and last delivery (epoch ms), a latency histogram (so that several processes' quantiles can be
// merged) and this process's own CPU time from "ready" on.
// Each message carries its publication time (performance.timeOrigin + now(), comparable across processes).
import WebSocket from 'ws';
import { bucketOf, latencySummary } from './latency.mjs';

// `firstSid`: NATS subscription ids of this process start there (unique over the processes of one run).
const [kind, url, count, topic, expectedArg, batchArg, firstSidArg] = process.argv.slice(2);
const firstSid = Number(firstSidArg ?? 0);
// 'default' sends no delivery_batch_size: the server's default (Zato's, 500) applies.
const batchOption = batchArg && batchArg !== 'default' ? { delivery_batch_size: Number(batchArg) } : {};
const expected = Number(expectedArg ?? Infinity);
const n = Number(count);
let received = 0;
// WebSocket messages that carried deliveries (a Switchboard batch frame, or a NATS websocket message of MSGs).
let frames = 0;
let first = 0;
let last = 0;
// Publish-to-receive latency in buckets of 10 µs (bucket → count).
const histogram = new Map();

function record(sentAt) {
  const now = performance.timeOrigin + performance.now();
  if (!first) first = now;
  last = now;
  received++;
  const bucket = bucketOf(now - sentAt);
  histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
  if (received >= expected) report();
}

async function switchboardSubscriber() {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let token;
  await new Promise((resolve) => {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw);
      const type = frame.meta.msg_type;
      if (type === 'zwsx.psrq') {
        frames++;
        for (const m of Array.isArray(frame.data) ? frame.data : [frame.data]) record(m.data.t);
      } else if (frame.meta.in_reply_to === 'c') {
        token = frame.data.token;
        ws.send(
          JSON.stringify({
            meta: { action: 'invoke-service', id: 's', timestamp: '', token },
            data: { service: 'zato.pubsub.pubapi.subscribe-wsx', request: { topic_name: topic, ...batchOption } },
          }),
        );
      } else if (frame.meta.in_reply_to === 's') {
        resolve();
      }
    });
    ws.send(JSON.stringify({ meta: { action: 'create-session', id: 'c', timestamp: '' } }));
  });
  return ws;
}

async function natsSubscriber(i) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let buffer = '';
  // NATS sends INFO right after the upgrade, often in the same TCP chunk: listen before 'open' fires.
  await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (raw) => {
      if (received) frames++;
      buffer += raw.toString();
      for (;;) {
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        if (line.startsWith('MSG ')) {
          const size = Number(line.slice(line.lastIndexOf(' ') + 1));
          if (buffer.length < eol + 2 + size + 2) return;
          record(JSON.parse(buffer.slice(eol + 2, eol + 2 + size)).t);
          buffer = buffer.slice(eol + 2 + size + 2);
          continue;
        }
        buffer = buffer.slice(eol + 2);
        if (line.startsWith('PING')) ws.send('PONG\r\n');
        else if (line.startsWith('PONG')) resolve();
        else if (line.startsWith('INFO')) ws.send(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${topic} ${i}\r\nPING\r\n`);
      }
    });
  });
  return ws;
}

const sockets = [];
for (let i = 0; i < n; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, n - i) }, (_, j) =>
      kind === 'nats' ? natsSubscriber(firstSid + i + j) : switchboardSubscriber(),
    ),
  );
  sockets.push(...batch);
}
const cpu0 = process.cpuUsage();
process.stdout.write('ready\n');

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  const cpu = process.cpuUsage(cpu0);
  const pairs = [...histogram];
  const summary = { received, frames, spanMs: last - first, ...latencySummary([pairs]) };
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  for (const ws of sockets) ws.terminate();
  // Exits once the report (maybe a megabyte) is out: a pipe's writes may be queued.
  process.stdout.write(JSON.stringify({ ...summary, first, last, cpuSeconds, histogram: pairs }) + '\n', () => process.exit(0));
}
process.on('SIGTERM', report);
