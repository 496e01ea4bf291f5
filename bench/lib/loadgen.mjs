// A raw-TCP, pipelined WebSocket load generator, run in its own process so it does not share an event loop
// with anything it measures. It speaks just enough RFC 6455: a hand-made upgrade, masked text frames built
// in advance, and unmasked server frames parsed by hand. Every server measured echoes in order, so latency
// is matched FIFO per connection.
//
//   node loadgen.mjs '{"host","port","path","mode":"zato"|"zato-direct"|"json","connections","window","warmupMs",
//                      "durationMs","serverPid"}'
//
// In zato mode, "service" and "request" say what to invoke through a gateway (default: zato.helpers.echo with a
// small request); in zato-direct mode the request alone is `data` (a channel with the service mounted); json mode with
// "wsxFrames" sends zato mode's frames to a plain JSON echo. A reply other
// than zwsx.rspok counts as an error. With `serverPid`, the server's CPU (user + sys, /proc) over the measured
// window is read too: the figure that holds even where this generator is the limit.
// Prints one JSON line: { msgsPerSec, p50, p99, p999, errors, cpuPercent, serverCpuPercent, serverCpuUsPerMsg,
// serverSysUsPerMsg }.
import { cpuTimes } from './cpu.mjs';
import { maskedFrame, parseFrames } from './raw-frames.mjs';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

const opts = JSON.parse(process.argv[2]);
const RING = 1024;
const REQUEST = { n: 123, text: 'hello' };

/** An invoke-service frame as Zato's clients send it. */
function invokeFrame(i, token, data) {
  return {
    meta: { action: 'invoke-service', id: `i${String(i).padStart(6, '0')}`, timestamp: '2026-01-01T00:00:00.000Z', token },
    data,
  };
}

async function openConnection(stats) {
  const sock = connect(opts.port, opts.host);
  sock.setNoDelay(true);
  await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  sock.write(
    `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let pending = Buffer.alloc(0);
  let upgraded = false;
  let onFrame = () => undefined;
  const ready = new Promise((resolve, reject) => {
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!pending.subarray(0, 12).toString().includes('101'))
          return reject(new Error(`Upgrade refused: ${pending.subarray(0, end)}`));
        upgraded = true;
        pending = pending.subarray(end + 4);
        resolve();
      }
      pending = parseFrames(pending, (opcode, payload) => {
        if (opcode === 0x1 || opcode === 0x2) onFrame(payload);
      });
    });
    sock.once('error', reject);
    sock.once('close', () =>
      reject(new Error(`closed by the server before the upgrade (${opts.host}:${opts.port}${opts.path})`)),
    );
  });
  await ready;

  let ring;
  if (opts.mode === 'zato' || opts.mode === 'zato-direct') {
    const token = await new Promise((resolve, reject) => {
      sock.once('close', () => reject(new Error('closed by the server before the session was created')));
      onFrame = (payload) => resolve(JSON.parse(payload).data.token);
      sock.write(
        maskedFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c1', timestamp: new Date().toISOString() } })),
      );
    });
    ring = Array.from({ length: RING }, (_, i) =>
      maskedFrame(
        JSON.stringify(
          invokeFrame(
            i,
            token,
            opts.mode === 'zato'
              ? { service: opts.service ?? 'zato.helpers.echo', request: opts.request ?? REQUEST }
              : (opts.request ?? REQUEST),
          ),
        ),
      ),
    );
  } else if (opts.wsxFrames) {
    // The bytes of the zato mode's invoke-service, to a server that just echoes JSON: what the format alone costs.
    const token = `zwsxt.${randomBytes(16).toString('hex')}`;
    ring = Array.from({ length: RING }, (_, i) =>
      maskedFrame(JSON.stringify(invokeFrame(i, token, { service: opts.service ?? 'zato.helpers.echo', request: REQUEST }))),
    );
  } else {
    ring = Array.from({ length: RING }, () => maskedFrame(JSON.stringify(REQUEST)));
  }

  // Replies arrive in order: the oldest send time is the one a reply answers (a ring of send times).
  const sentAt = new Float64Array(RING);
  let head = 0;
  let tail = 0;
  let next = 0;
  let outbox = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (outbox.length) sock.write(outbox.length === 1 ? outbox[0] : Buffer.concat(outbox));
    outbox = [];
  };
  const send = () => {
    sentAt[tail++ & (RING - 1)] = performance.now();
    outbox.push(ring[next++ & (RING - 1)]);
  };
  onFrame = (payload) => {
    const now = performance.now();
    const t0 = sentAt[head++ & (RING - 1)];
    if (stats.measuring) {
      stats.count++;
      stats.latencies.push(now - t0);
      if (opts.mode !== 'json' && payload.indexOf('"zwsx.rspok"') < 0) stats.errors++;
    }
    if (!stats.stopped) send();
  };
  // Replies to one read are answered with one write; a timer flushes whatever a partial read left.
  sock.on('data', () => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(flush);
  });
  for (let i = 0; i < opts.window; i++) send();
  flush();
  return sock;
}

/** CPU seconds (user + sys) of `pid` so far, or undefined (no /proc, or no pid given). */
const stats = { count: 0, errors: 0, latencies: [], measuring: false, stopped: false };
// Opened 100 at a time: thousands of SYNs at once overflow the server's accept backlog, and the retried ones wait
// seconds (TCP's retransmission), which would only measure the kernel.
const sockets = [];
for (let i = 0; i < opts.connections; i += 100) {
  const n = Math.min(100, opts.connections - i);
  sockets.push(...(await Promise.all(Array.from({ length: n }, () => openConnection(stats)))));
}
await new Promise((r) => setTimeout(r, opts.warmupMs));
const cpu0 = process.cpuUsage();
const server0 = opts.serverPid ? cpuTimes(opts.serverPid) : undefined;
const t0 = performance.now();
stats.measuring = true;
await new Promise((r) => setTimeout(r, opts.durationMs));
stats.measuring = false;
stats.stopped = true;
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const server1 = opts.serverPid ? cpuTimes(opts.serverPid) : undefined;
const serverSys = server0 === undefined || server1 === undefined ? undefined : server1.system - server0.system;
const serverCpu = serverSys === undefined ? undefined : server1.user - server0.user + serverSys;
for (const s of sockets) s.destroy();
stats.latencies.sort((a, b) => a - b);
const pct = (p) =>
  +(stats.latencies[Math.min(stats.latencies.length - 1, Math.floor((p / 100) * stats.latencies.length))] ?? 0).toFixed(3);
process.stdout.write(
  JSON.stringify({
    msgsPerSec: Math.round(stats.count / elapsed),
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    errors: stats.errors,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100),
    serverCpuPercent: serverCpu === undefined ? undefined : Math.round((serverCpu / elapsed) * 100),
    serverCpuUsPerMsg: serverCpu === undefined || !stats.count ? undefined : +((serverCpu / stats.count) * 1e6).toFixed(1),
    // The kernel's share (sends over loopback are charged to the sender): what user-space work cannot remove.
    serverSysUsPerMsg: serverSys === undefined || !stats.count ? undefined : +((serverSys / stats.count) * 1e6).toFixed(1),
  }) + '\n',
);
process.exit(0);
