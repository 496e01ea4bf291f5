// The event-loop watchdog's thread (see watchdog.ts). It runs its own event loop, so it keeps ticking while the
// main thread is stuck in a `for (;;) {}`: it notices that the main thread stopped beating, logs which service
// (or file import) was running, and, when told to, kills the process so that a supervisor restarts it.
// It writes its log lines to the file descriptor itself: a worker's process.stdout goes through the main thread,
// which is exactly the thread that cannot run.
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { SLOT, type WatchdogWorkerData, type ScopeLabel } from './watchdog-shared.js';

const data = workerData as WatchdogWorkerData;
const state = new Int32Array(data.buffer);
const labels = new Map<number, ScopeLabel>();
const host = hostname();

parentPort?.on('message', (message: { id: number; label: ScopeLabel }) => labels.set(message.id, message.label));

function log(level: number, fields: Record<string, unknown>, msg: string): void {
  if (level < data.levelValue) return;
  const line = JSON.stringify({
    level,
    time: Date.now(),
    pid: process.pid,
    hostname: host,
    app: 'switchboard',
    part: 'watchdog',
    ...fields,
    msg,
  });
  try {
    writeSync(data.fd, line + '\n');
  } catch {
    // Nowhere left to report to; the main thread logs the stall again when it comes back.
  }
}

let lastBeat = Atomics.load(state, SLOT.beat);
let lastChange = performance.now();
let warned = false;

function check(): void {
  const beat = Atomics.load(state, SLOT.beat);
  const now = performance.now();
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastChange = now;
    warned = false;
    return;
  }
  const blockedMs = Math.round(now - lastChange);
  if (!warned && blockedMs >= data.warnMs) {
    warned = true;
    const id = Atomics.load(state, SLOT.current);
    Atomics.store(state, SLOT.stallScope, id);
    log(
      40,
      { ...labels.get(id), blockedMs },
      'The event loop is blocked: no server work runs until it returns (services share the event loop)',
    );
  }
  if (data.exitMs > 0 && blockedMs >= data.exitMs) {
    const id = Atomics.load(state, SLOT.current);
    log(
      60,
      { ...labels.get(id), blockedMs },
      'The event loop has been blocked too long (stallExitMs): killing the process so that a supervisor restarts it',
    );
    process.kill(process.pid, 'SIGKILL');
  }
}

setInterval(check, data.checkMs);
