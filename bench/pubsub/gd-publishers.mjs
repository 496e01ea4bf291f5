// Case (b): guaranteed-delivery publishes committed per second. N WSX clients publish to one GD topic, each
// keeping `window` publications in flight (1 = wait for each reply); a reply comes only after the commit.
import WebSocket from 'ws';

export async function measureGd({ url, topic, publishers = 8, window = 1, durationMs = 5000, warmupMs = 1000 }) {
  const clients = await Promise.all(Array.from({ length: publishers }, () => connect(url)));
  let committed = 0;
  let errors = 0;
  const latencies = [];
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;
  await Promise.all(
    clients.flatMap((c, p) => Array.from({ length: window }, (_, w) => ({ c, p: `${p}.${w}` }))).map(async ({ c, p }) => {
      let seq = 0;
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        const reply = await c.call({ service: 'zato.pubsub.pubapi.publish-message', request: { topic_name: topic, data: { p, seq: seq++ }, has_gd: true } });
        const t1 = performance.now();
        if (reply.meta.status !== 200) errors++;
        else if (t0 >= measureFrom && t1 <= stopAt) {
          committed++;
          latencies.push(t1 - t0);
        }
      }
    }),
  );
  for (const c of clients) c.ws.close();
  latencies.sort((a, b) => a - b);
  const pct = (p) => +(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0).toFixed(3);
  return { committedPerSec: Math.round(committed / (durationMs / 1000)), p50: pct(50), p99: pct(99), errors, publishers, window };
}

async function connect(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map();
  let seq = 0;
  let token;
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw);
    const resolve = waiting.get(frame.meta.in_reply_to);
    waiting.delete(frame.meta.in_reply_to);
    resolve?.(frame);
  });
  const send = (meta, data) =>
    new Promise((resolve) => {
      const id = `g${++seq}`;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ meta: { id, timestamp: new Date().toISOString(), token, ...meta }, ...(data === undefined ? {} : { data }) }));
    });
  token = (await send({ action: 'create-session' })).data.token;
  return { ws, call: (data) => send({ action: 'invoke-service' }, data) };
}
