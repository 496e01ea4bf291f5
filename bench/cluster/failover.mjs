// Case (d): failover. `subscribers` durable GD subscribers on server B (spread over `topics` topics), a publisher on
// server A at about `rate` GD publishes/s; then kill -9 of B. The subscribers reconnect to A and resume their
// sub_keys there (durable-subscribers.mjs): the time from the kill until 99 % have resumed and until 99 % are
// receiving again, and how many deliveries came again (flagged by delivery_count ≥ 2).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { cpuSplit, formatCpu, postgresPids } from '../lib/cpu.mjs';
import { spawnTracked } from '../lib/processes.mjs';
import { createTopic, liftDemoLimits, quantile, servers, stop } from './servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const now = () => performance.timeOrigin + performance.now();

/** Starts the subscribers; resolves once all are subscribed, with `receiving(n)` and `report()`. */
function startDurable(options) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [join(here, 'durable-subscribers.mjs'), JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let receiving = 0;
    const waiters = [];
    let onReport;
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop();
      for (const line of lines) {
        if (line === 'ready') resolve(api);
        else if (line.startsWith('{"receiving"')) receiving = JSON.parse(line).receiving;
        else if (line.startsWith('{')) onReport?.(JSON.parse(line));
      }
      for (const w of waiters.splice(0)) w();
    });
    child.once('exit', (code) => reject(new Error(`durable subscribers exited with ${code} before they were ready`)));
    const api = {
      pid: child.pid,
      /** Resolves once `n` subscribers receive again, or after `timeoutMs`. */
      async receiving(n, timeoutMs) {
        const deadline = performance.now() + timeoutMs;
        // `receiving` is raised by the stdout handler above while this waits.
        for (;;) {
          if (receiving >= n || performance.now() >= deadline) break;
          await new Promise((r) => {
            waiters.push(r);
            setTimeout(r, 200);
          });
        }
        return receiving;
      },
      report: () =>
        new Promise((r) => {
          onReport = r;
          child.kill('SIGTERM');
        }),
    };
  });
}

/** One WSX publishing connection with a session: `send(meta, data)` resolves with the reply frame. */
async function publishingConnection(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map();
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw);
    const done = waiting.get(frame.meta.in_reply_to);
    waiting.delete(frame.meta.in_reply_to);
    done?.(frame);
  });
  let seq = 0;
  const send = (meta, data) =>
    new Promise((resolve) => {
      const id = `p${++seq}`;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ meta: { id, timestamp: '', ...meta }, ...(data ? { data } : {}) }));
    });
  const token = (await send({ action: 'create-session' })).data.token;
  return { ws, token, send, inFlight: 0 };
}

/**
 * Publishes GD messages `{ id, t }` to `topics` round-robin at about `rate`/s over 4 connections, each with at most
 * 64 publications waiting for their commit (the server allows 100 in flight per connection), until stopped.
 */
async function pacedPublisher(url, topics, rate) {
  const conns = await Promise.all(Array.from({ length: 4 }, () => publishingConnection(url)));
  const stats = { acked: 0, errors: 0, firstError: undefined };
  const started = performance.now();
  let issued = 0;
  const publish = (c, n) => {
    c.inFlight++;
    const request = { topic_name: topics[n % topics.length], data: { id: `m${n}`, t: now() }, has_gd: true };
    void c
      .send({ action: 'invoke-service', token: c.token }, { service: 'zato.pubsub.pubapi.publish-message', request })
      .then((f) => {
        c.inFlight--;
        if (f.meta.status === 200) return void stats.acked++;
        stats.errors++;
        stats.firstError ??= `${f.meta.status} ${f.meta.code ?? ''} ${f.meta.error_message ?? ''}`.trim();
      });
  };
  // Every 10 ms, as many as the rate allows by now, on connections with room.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (const c of conns) while (issued < due && c.inFlight < 64) publish(c, issued++);
  }, 10);
  return {
    stats,
    stop() {
      clearInterval(timer);
      for (const c of conns) c.ws.terminate();
      return { ...stats, perSec: Math.round(stats.acked / ((performance.now() - started) / 1000)) };
    },
  };
}

/** Runs case (d) once; prints the figures and a JSON line. */
export async function failoverCase({ subscribers, topics: topicCount, rate }) {
  console.log(
    `\n(d) failover: ${subscribers} durable GD subscribers on B (${topicCount} topics), a publisher on A at ~${rate}/s; kill -9 of B, the subscribers resume on A`,
  );
  const group = await servers('fo', 2);
  const [a, b] = group;
  try {
    await liftDemoLimits(group);
    const topics = Array.from({ length: topicCount }, (_, i) => `/bench/failover/${i}`);
    for (const name of topics) await createTopic(group, { name, maxDepthGd: 10_000_000, subMaxDepthGd: 1_000_000 });
    const subs = await startDurable({ url: b.demoUrl, fallback: a.demoUrl, count: subscribers, topics, prefix: 'fo' });
    const publisher = await pacedPublisher(a.demoUrl, topics, rate);
    await new Promise((r) => setTimeout(r, 3000));
    const beforeKill = publisher.stats.acked;
    const killAt = now();
    b.child.kill('SIGKILL');
    const target = Math.ceil(subscribers * 0.99);
    const { cpu } = await cpuSplit(
      { 'server A': [a.child.pid], 'all postgres': postgresPids, subscribers: [subs.pid], publisher: [process.pid] },
      () => subs.receiving(target, 60_000),
    );
    // A little longer, so that redeliveries and the backlog of the outage arrive before the count.
    await new Promise((r) => setTimeout(r, 2000));
    const published = publisher.stop();
    const report = await subs.report();
    const after = (list, q) => (list.length ? Math.round(quantile(list, q) - killAt) : undefined);
    const enough = (list) => list.length >= target;
    const result = {
      bench: 'cluster-failover',
      subscribers,
      topics: topicCount,
      rate,
      published_per_s: published.perSec,
      published_before_kill: beforeKill,
      publish_errors: published.errors,
      ...(published.firstError ? { first_publish_error: published.firstError } : {}),
      resumed: report.resumedAt.length,
      receiving: report.receivingAt.length,
      resumed_first_ms: after(report.resumedAt, 0),
      resumed_50_ms: after(report.resumedAt, 0.5),
      resumed_99_ms: enough(report.resumedAt) ? after(report.resumedAt, 0.99) : undefined,
      receiving_50_ms: after(report.receivingAt, 0.5),
      receiving_99_ms: enough(report.receivingAt) ? after(report.receivingAt, 0.99) : undefined,
      receiving_all_ms: report.receivingAt.length === subscribers ? after(report.receivingAt, 1) : undefined,
      received: report.received,
      redelivered_flagged: report.flagged,
      duplicates: report.duplicates,
      duplicates_unflagged: report.unflagged,
      resume_errors: report.resumeErrors,
      ...(report.firstError ? { first_resume_error: report.firstError } : {}),
      cpu_after_kill: cpu,
      target_ms: 5000,
    };
    console.log(
      `resumed on A: ${result.resumed}/${subscribers} (first after ${result.resumed_first_ms ?? '—'} ms, 50 % after ${result.resumed_50_ms ?? '—'} ms, 99 % after ${result.resumed_99_ms ?? '—'} ms); receiving again: ${result.receiving}/${subscribers} ` +
        `(50 % after ${result.receiving_50_ms ?? '—'} ms, 99 % after ${result.receiving_99_ms ?? '—'} ms, all after ${result.receiving_all_ms ?? '—'} ms; target 99 % <= 5,000 ms)`,
    );
    console.log(
      `publisher: ${published.perSec} acknowledged/s, ${published.errors} errors${published.firstError ? ` (${published.firstError})` : ''}; deliveries: ${report.received}, of them ${report.flagged} redelivered ` +
        `(delivery_count >= 2), ${report.duplicates} seen twice (${report.unflagged} of them without a raised count); resume attempts refused: ${report.resumeErrors}${report.firstError ? ` (${report.firstError})` : ''}`,
    );
    console.log(`CPU from the kill to 99 % receiving (% of one core): ${formatCpu(cpu)}`);
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await stop(group);
  }
}
