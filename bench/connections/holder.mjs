// Opens idle WebSocket connections and holds them, as cheaply as a client can: raw TCP with a hand-made upgrade (as
// lib/loadgen.mjs), from the given loopback source addresses in turn (each gives its own range of ephemeral ports), 100
// at a time. In zato mode each connection then sends a `create-session` and counts once its answer (with the token) arrived.
// Held connections answer pings with pongs (a Switchboard channel pings every 30 s and closes a client that misses two)
// and otherwise do nothing.
//
//   node holder.mjs '{"host","port","path","mode":"zato"|"json","count","localAddresses":["127.0.0.2",…]}'
//
// Prints `{"ready":true}` once started, waits for a line `go` on stdin, opens its connections and prints
// `{"connected":N,"ms":T,"failed":F,"firstError":…}`. It then holds them until killed, printing
// `{"closed":N}` whenever the server closes some (one line a second at most).
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { maskedFrame, parseFrames } from '../lib/raw-frames.mjs';
import { createInterface } from 'node:readline';

const opts = JSON.parse(process.argv[2]);
const BATCH = 100;

const createSession = maskedFrame(
  JSON.stringify({ meta: { action: 'create-session', id: 'c1', timestamp: new Date().toISOString() } }),
);
const upgrade = (key) =>
  `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
const KEY = randomBytes(16).toString('base64');
// Source ports per source address: the bench's addresses (127.0.0.2 and up) have no listeners.
const FIRST_PORT = 1024;
const LAST_PORT = 65535;
const nextPort = new Map();

let closed = 0;
let reportedClosed = 0;

/**
 * Resolves once the connection is held (upgraded, and in zato mode with a session); rejects if refused. The source
 * port is chosen here, not by the kernel: binding to an address without a port makes the kernel search its bind table
 * for a free one, which gets slower with every socket bound (seconds per hundred at 20,000), while a given port is
 * one lookup. A port taken already (EADDRINUSE) is retried with the next one.
 */
function open(localAddress) {
  const next = nextPort.get(localAddress) ?? FIRST_PORT;
  if (next > LAST_PORT) return Promise.reject(new Error(`no source ports left on ${localAddress}`));
  nextPort.set(localAddress, next + 1);
  return connectFrom(localAddress, next).catch((err) => {
    if (err.code === 'EADDRINUSE') return open(localAddress);
    throw err;
  });
}

function connectFrom(localAddress, localPort) {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: opts.host, port: opts.port, localAddress, localPort });
    let state = 'upgrading';
    let pending;
    const fail = (err) => {
      if (state === 'held' || state === 'failed') return;
      state = 'failed';
      sock.destroy();
      reject(err);
    };
    sock.once('connect', () => sock.write(upgrade(KEY)));
    sock.on('error', fail);
    sock.on('close', () => {
      if (state === 'held') closed++;
      else fail(new Error(`closed by the server while ${state}`));
    });
    sock.on('data', (chunk) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      if (state === 'upgrading') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return void (pending = buf);
        if (!buf.subarray(0, 12).toString().includes('101'))
          return fail(new Error(`upgrade refused: ${buf.subarray(0, Math.min(end, 200)).toString()}`));
        buf = buf.subarray(end + 4);
        if (opts.mode === 'zato') {
          state = 'creating a session';
          sock.write(createSession);
        } else {
          state = 'held';
          resolve();
        }
      }
      const rest = parseFrames(buf, (opcode, payload) => {
        if (opcode === 0x9) sock.write(maskedFrame(payload, 0xa));
        else if (opcode === 0x8) sock.end();
        else if (state === 'creating a session') {
          // The session's answer is a zwsx.rspa carrying the token; a refusal is a zwsx.merr (then a close).
          if (payload.indexOf('"token"') < 0) return fail(new Error(`create-session refused: ${payload}`));
          state = 'held';
          resolve();
        }
      });
      pending = rest.length ? rest : undefined;
    });
  });
}

process.stdout.write('{"ready":true}\n');
const lines = createInterface({ input: process.stdin });
// The bench gone (its stdin closed): so are we.
lines.once('close', () => process.exit(0));
await new Promise((resolve) => lines.on('line', (l) => l.trim() === 'go' && resolve()));
const t0 = performance.now();
let connected = 0;
let failed = 0;
let firstError;
for (let i = 0; i < opts.count; i += BATCH) {
  const n = Math.min(BATCH, opts.count - i);
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, j) => open(opts.localAddresses[(i + j) % opts.localAddresses.length])),
  );
  for (const r of results) {
    if (r.status === 'fulfilled') connected++;
    else {
      failed++;
      firstError ??= r.reason.message;
    }
  }
}
const ms = Math.round(performance.now() - t0);
process.stdout.write(JSON.stringify({ connected, failed, ms, firstError }) + '\n');
setInterval(() => {
  if (closed === reportedClosed) return;
  reportedClosed = closed;
  process.stdout.write(JSON.stringify({ closed }) + '\n');
}, 1000);
