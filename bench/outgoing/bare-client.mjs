// The baseline: a bare `ws` client in its own process driving the same channel with the same concurrency
// (requests in flight) and the same message as the outgoing connection does.
import WebSocket from 'ws';

const [url, concurrency = '64', durationMs = '5000', warmupMs = '1000'] = process.argv.slice(2);

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

const ws = new WebSocket(url, { perMessageDeflate: false });
await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
ws.send(JSON.stringify({ meta: { action: 'create-session', id: 'c1', timestamp: new Date().toISOString() } }));
const token = await new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d).data.token)));

const sentAt = new Map();
let seq = 0;
let errors = 0;
const latencies = [];
const start = performance.now();
const measureFrom = start + Number(warmupMs);
const stopAt = measureFrom + Number(durationMs);
let inFlight = 0;

function sendOne() {
  const id = `b${++seq}`;
  sentAt.set(id, performance.now());
  inFlight++;
  ws.send(
    JSON.stringify({
      meta: { action: 'invoke-service', id, timestamp: new Date().toISOString(), token },
      data: { service: 'zato.helpers.echo', request: { n: 123, text: 'hello' } },
    }),
  );
}

const done = new Promise((resolve) => {
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw);
    const t0 = sentAt.get(frame.meta.in_reply_to);
    sentAt.delete(frame.meta.in_reply_to);
    inFlight--;
    if (frame.meta.status !== 200) errors++;
    const now = performance.now();
    if (t0 >= measureFrom) latencies.push(now - t0);
    if (now < stopAt) sendOne();
    else if (inFlight === 0) resolve();
  });
});
for (let i = 0; i < Number(concurrency); i++) sendOne();
await done;
ws.close();
latencies.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    msgsPerSec: Math.round(latencies.length / (Number(durationMs) / 1000)),
    p50: +percentile(latencies, 50).toFixed(3),
    p99: +percentile(latencies, 99).toFixed(3),
    errors,
  }) + '\n',
);
