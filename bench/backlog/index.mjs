// `npm run bench -- backlog [--sizes 0,100000,1000000] [--messages 2000]`: what a backlog held for one offline GD
// subscriber costs everyone else. For each backlog size the rows are bulk-inserted straight into the database while
// the server is stopped (setup in seconds, not minutes), then with the server up again:
//   - publish: GD publishes committed per second (8 connections × 8 in flight), the offline subscriber and one online
//     subscriber (ack_mode client, acknowledging every frame) on the topic;
//   - ack: messages delivered to and acknowledged by the online subscriber per second meanwhile (each acknowledgement
//     deletes its queue row and checks whether anyone else still needs the message: the orphan check);
//   - resume: the offline subscriber reconnects; time to its first batch frame and to read 10 batches of 500.
import { join } from 'node:path';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { startSwitchboard, spawnTracked, root, BENCH_ADMIN_TOKEN } from '../lib/processes.mjs';

const TOPIC = '/bench/backlog';
const OFFLINE_ID = 'bench-offline';

class Client {
  static async connect(url, clientId) {
    const c = new Client(new WebSocket(url));
    await new Promise((resolve, reject) => c.ws.once('open', resolve).once('error', reject));
    const reply = await c.request({ action: 'create-session', ...(clientId ? { client_id: clientId } : {}) });
    c.token = reply.data.token;
    return c;
  }

  constructor(ws) {
    this.ws = ws;
    this.seq = 0;
    this.waiting = new Map();
    this.onPush = () => undefined;
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      const waiter = this.waiting.get(frame.meta.in_reply_to);
      if (waiter) {
        this.waiting.delete(frame.meta.in_reply_to);
        waiter(frame);
      } else if (frame.meta.msg_type === 'zwsx.psrq') this.onPush(frame);
    });
  }

  request(meta, data) {
    const id = `b${++this.seq}`;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(
        JSON.stringify({
          meta: { ...meta, id, timestamp: new Date().toISOString(), token: this.token },
          ...(data === undefined ? {} : { data }),
        }),
      );
    });
  }

  call(service, request) {
    return this.request({ action: 'invoke-service' }, { service, request });
  }

  ack(frame) {
    this.ws.send(
      JSON.stringify({
        meta: { action: 'client-response', id: `a${++this.seq}`, token: this.token, in_reply_to: frame.meta.id },
        data: {},
      }),
    );
  }

  close() {
    this.ws.terminate();
  }
}

// Bulk setup: `n` messages queued for `subKey`, written in one transaction with prepared statements.
function fillBacklog(dbFile, subKey, n) {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  const seq0 = Number(db.prepare('select coalesce(max(seq), 0) as m from pubsub_message').get().m);
  const insertMessage = db.prepare(
    'insert into pubsub_message (msg_id, seq, topic_name, data, mime_type, priority, pub_time, expiration_time, correl_id, in_reply_to, ext_client_id, size) values (?, ?, ?, ?, ?, 5, ?, ?, null, null, null, ?)',
  );
  const insertQueued = db.prepare(
    'insert into pubsub_queue (sub_key, msg_id, priority, seq, delivery_count) values (?, ?, 5, ?, 0)',
  );
  const now = Date.now();
  const data = JSON.stringify({ n: 123, text: 'backlog' });
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const msgId = `zpsm${now.toString(16).padStart(12, '0')}${i.toString(16).padStart(12, '0')}`;
      insertMessage.run(msgId, seq0 + i, TOPIC, data, 'application/json', now, now + 86_400_000, data.length);
      insertQueued.run(subKey, msgId, seq0 + i);
    }
  })();
  db.close();
}

async function stop(sb) {
  sb.child.kill('SIGTERM');
  await new Promise((r) => (sb.child.exitCode !== null ? r() : sb.child.once('exit', r)));
}

async function restart(sb) {
  const main = join(root, 'dist/src/server/main.js');
  const child = spawnTracked(process.execPath, [main], { env: sb.env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Switchboard exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${sb.admin}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  sb.child = child;
}

async function measure(size, messages) {
  const sb = await startSwitchboard(`backlog-${size}`);
  // startSwitchboard keeps its environment to itself; rebuild it for restarts.
  const { port: adminPort } = new URL(sb.admin);
  const { port: demoPort } = new URL(sb.demoUrl);
  sb.env = {
    ...process.env,
    SWITCHBOARD_DATA_DIR: sb.dir,
    SWITCHBOARD_SERVICES_DIR: join(sb.dir, 'services'),
    SWITCHBOARD_ADMIN_PORT: adminPort,
    SWITCHBOARD_DEMO_PORT: demoPort,
    SWITCHBOARD_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SWITCHBOARD_LOG_LEVEL: 'warn',
  };
  // Topic limits a backlog of a million rows fits in (the fields a server does not know yet are left out).
  const limits = { maxDepthGd: 100_000_000 };
  try {
    await sb.api('POST', '/api/pubsub/topics', {
      name: TOPIC,
      ...limits,
      subMaxDepthGd: 100_000_000,
      maxBytesGd: 16 * 1024 ** 3,
    });
  } catch {
    await sb.api('POST', '/api/pubsub/topics', { name: TOPIC, ...limits });
  }
  const offline = await Client.connect(sb.demoUrl, OFFLINE_ID);
  const sub = await offline.call('zato.pubsub.pubapi.subscribe-wsx', {
    topic_name: TOPIC,
    unsub_on_wsx_close: false,
    ack_mode: 'client',
    delivery_batch_size: 500,
  });
  const offlineKey = sub.data.sub_key;
  offline.close();
  await new Promise((r) => setTimeout(r, 200));
  await stop(sb);
  const setupStart = performance.now();
  fillBacklog(join(sb.dir, 'switchboard.db'), offlineKey, size);
  const setupMs = Math.round(performance.now() - setupStart);
  await restart(sb);

  // The online subscriber acknowledges every frame as it arrives.
  const online = await Client.connect(sb.demoUrl);
  await online.call('zato.pubsub.pubapi.subscribe-wsx', { topic_name: TOPIC, ack_mode: 'client', delivery_batch_size: 50 });
  let received = 0;
  let allReceived;
  const done = new Promise((r) => (allReceived = r));
  online.onPush = (frame) => {
    received += Array.isArray(frame.data) ? frame.data.length : 1;
    online.ack(frame);
    if (received >= messages) allReceived();
  };

  const publishers = await Promise.all(Array.from({ length: 8 }, () => Client.connect(sb.demoUrl)));
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    publishers.flatMap((p) =>
      Array.from({ length: 8 }, async () => {
        while (issued < messages) {
          issued++;
          const reply = await p.call('zato.pubsub.pubapi.publish-message', {
            topic_name: TOPIC,
            data: { n: issued },
            has_gd: true,
          });
          if (reply.meta.status !== 200) throw new Error(`publish refused: ${JSON.stringify(reply.meta)}`);
        }
      }),
    ),
  );
  const publishSec = (performance.now() - started) / 1000;
  await done;
  const ackSec = (performance.now() - started) / 1000;
  for (const p of publishers) p.close();
  online.close();

  // The offline subscriber comes back: its first batches come off the head of the backlog.
  const back = await Client.connect(sb.demoUrl, OFFLINE_ID);
  let frames = 0;
  let firstMs;
  let tenMs;
  const resumeStart = performance.now();
  const ten = new Promise((resolve) => {
    back.onPush = (frame) => {
      frames++;
      firstMs ??= performance.now() - resumeStart;
      back.ack(frame);
      if (frames === 10) {
        tenMs = performance.now() - resumeStart;
        resolve();
      }
    };
  });
  await back.call('zato.pubsub.resume-wsx-subscription', { sub_key: offlineKey });
  await Promise.race([ten, new Promise((r) => setTimeout(r, 60_000))]);
  back.close();
  await stop(sb);
  return {
    backlog: size,
    setupMs,
    publishPerSec: Math.round(messages / publishSec),
    deliveredAckedPerSec: Math.round(messages / ackSec),
    resumeFirstBatchMs: Math.round(firstMs ?? NaN),
    resumeTenBatchesMs: Math.round(tenMs ?? NaN),
  };
}

/** Runs the backlog case for each size and prints one JSON line per size. */
export async function run(opts) {
  const sizes = String(opts.sizes ?? '0,100000,1000000')
    .split(',')
    .map(Number);
  const messages = Number(opts.messages ?? 2000);
  for (const size of sizes) console.log(JSON.stringify(await measure(size, messages)));
}
