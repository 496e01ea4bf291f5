// The compression bench's client, in a process of its own: `ws` clients that offer permessage-deflate (as browsers
// do), so that a channel with `compression: true` negotiates it and one without does not. Opens `connections`, each
// sends one message and waits for its echo (so that every connection has its zlib contexts, as one in use does),
// prints `{"phase":"held"}`, and on the line `load` on stdin drives the first `busy` connections with one request in
// flight each: after `warmupMs` it prints `{"phase":"measuring"}`, after `durationMs` more the result. Holds the
// connections until stdin ends.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const o = JSON.parse(process.argv[2]);
const payload = makePayload(o.payloadBytes);
const sockets = [];

/** An order-like JSON document of about `bytes` bytes: the repetitive text real integration messages are. */
function makePayload(bytes) {
  const lines = [];
  for (let i = 0; JSON.stringify(lines).length < bytes; i++)
    lines.push({ sku: `SKU-${1000 + i}`, name: `Widget model ${i % 7}`, qty: (i % 5) + 1, price: 9.99 + i, currency: 'EUR' });
  return { order: 'ORD-2026-0001', customer: { id: 42, name: 'ACME Trading' }, lines };
}

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: { clientNoContextTakeover: true } });
    ws.once('open', () => resolve(ws));
    ws.on('message', () => settle(ws));
    ws.once('close', () => settle(ws, new Error('closed')));
    ws.once('error', reject);
  });
}

const text = JSON.stringify(payload);
// One reply awaited per socket at a time: its resolver, or undefined.
const replies = new Map();

function roundTrip(ws) {
  return new Promise((resolve, reject) => {
    replies.set(ws, { resolve, reject });
    ws.send(text);
  });
}

function settle(ws, error) {
  const r = replies.get(ws);
  replies.delete(ws);
  if (error) r?.reject(error);
  else r?.resolve();
}

const t0 = performance.now();
for (let i = 0; i < o.connections; i += 100) {
  const batch = await Promise.all(Array.from({ length: Math.min(100, o.connections - i) }, () => open(o.url)));
  sockets.push(...batch);
}
await Promise.all(sockets.map(roundTrip));
const negotiated = sockets.filter((ws) => ws.extensions.includes('permessage-deflate')).length;
console.log(JSON.stringify({ phase: 'held', connectMs: Math.round(performance.now() - t0), negotiated }));

async function load() {
  const busy = sockets.slice(0, o.busy);
  let counting = false;
  const run = { stop: false };
  let count = 0;
  const latencies = [];
  const loop = async (ws) => {
    while (!run.stop) {
      const start = performance.now();
      await roundTrip(ws);
      if (counting) {
        count++;
        if (latencies.length < 200_000) latencies.push(performance.now() - start);
      }
    }
  };
  const loops = busy.map(loop);
  await new Promise((r) => setTimeout(r, o.warmupMs));
  counting = true;
  console.log(JSON.stringify({ phase: 'measuring' }));
  const t = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  counting = false;
  const seconds = (performance.now() - t) / 1000;
  run.stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const bytes = text.length;
  console.log(JSON.stringify({ phase: 'done', msgs: count, seconds, p50: at(0.5), p99: at(0.99), payloadBytes: bytes }));
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'load') load().catch((err) => console.log(JSON.stringify({ phase: 'error', message: String(err) })));
});
lines.on('close', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
