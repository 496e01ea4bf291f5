// N durable GD subscribers in one process (`unsub_on_wsx_close: false`, `ack_mode: client`, each frame acknowledged),
// subscriber i on topic i mod topics. When a socket closes (its server killed) the subscriber reconnects to
// `fallback` and resumes its sub_key there, as a Zato client behind a load balancer does. Prints "ready" once all
// are subscribed, then `{"receiving":n}` lines as subscribers get their first delivery after a resume; on SIGTERM
// one JSON line of what happened (times are epoch ms: performance.timeOrigin + now(), comparable across processes).
//   node durable-subscribers.mjs '{"url","fallback","count","topics":[...],"prefix"}'
import WebSocket from 'ws';

const { url, fallback, count, topics, prefix } = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const stats = { received: 0, flagged: 0, duplicates: 0, unflagged: 0, resumeErrors: 0, firstError: undefined };
const resumedAt = [];
const receivingAt = [];
const sockets = new Set();

/** Connects, creates a session, and runs `request` through the gateway; resolves with the socket and the reply. */
function session(target, clientId, service, request, onDelivery) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, { perMessageDeflate: false });
    let token;
    ws.once('error', reject);
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw);
      if (frame.meta.msg_type === 'zwsx.psrq') {
        onDelivery(Array.isArray(frame.data) ? frame.data : [frame.data]);
        ws.send(
          JSON.stringify({
            meta: { action: 'client-response', id: `a${frame.meta.id}`, token, in_reply_to: frame.meta.id },
            data: {},
          }),
        );
      } else if (frame.meta.in_reply_to === 'c') {
        token = frame.data.token;
        ws.send(
          JSON.stringify({ meta: { action: 'invoke-service', id: 's', timestamp: '', token }, data: { service, request } }),
        );
      } else if (frame.meta.in_reply_to === 's') {
        if (frame.meta.status === 200) resolve({ ws, reply: frame.data });
        else reject(new Error(`${service}: ${frame.meta.status} ${frame.meta.error_message ?? ''}`));
      }
    });
    ws.once('open', () =>
      ws.send(JSON.stringify({ meta: { action: 'create-session', id: 'c', timestamp: '', client_id: clientId } })),
    );
  });
}

async function subscriber(i) {
  const clientId = `${prefix}-${i}`;
  const seen = new Set();
  let resumed = false;
  let receiving = false;
  const onDelivery = (messages) => {
    for (const m of messages) {
      stats.received++;
      if (m.delivery_count > 1) stats.flagged++;
      if (seen.has(m.data.id)) stats.duplicates++;
      // A duplicate must come with its count raised (issue 12): one that does not is a bug.
      if (seen.has(m.data.id) && !(m.delivery_count > 1)) stats.unflagged++;
      seen.add(m.data.id);
    }
    if (resumed && !receiving) {
      receiving = true;
      receivingAt.push(now());
    }
  };
  const watch = (ws, subKey) => {
    sockets.add(ws);
    ws.once('close', () => {
      sockets.delete(ws);
      if (!closing) void resume(subKey);
    });
  };
  const resume = async (subKey) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const { ws } = await session(fallback, clientId, 'zato.pubsub.resume-wsx-subscription', { sub_key: subKey }, onDelivery);
        resumed = true;
        resumedAt.push(now());
        sockets.add(ws);
        return;
      } catch (err) {
        stats.resumeErrors++;
        stats.firstError ??= String(err.message ?? err);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const request = {
    topic_name: topics[i % topics.length],
    unsub_on_wsx_close: false,
    ack_mode: 'client',
    delivery_batch_size: 200,
  };
  const { ws, reply } = await session(url, clientId, 'zato.pubsub.pubapi.subscribe-wsx', request, onDelivery);
  watch(ws, reply.sub_key);
}

let closing = false;
for (let i = 0; i < count; i += 50)
  await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => subscriber(i + j)));
process.stdout.write('ready\n');
let told = 0;
setInterval(() => {
  if (receivingAt.length !== told) process.stdout.write(`${JSON.stringify({ receiving: (told = receivingAt.length) })}\n`);
}, 100);
process.on('SIGTERM', () => {
  closing = true;
  process.stdout.write(`${JSON.stringify({ ...stats, resumedAt, receivingAt })}\n`);
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
