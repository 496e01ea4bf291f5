// The servers of the echo bench, each started fresh and stopped after its loads: Switchboard (three channels on one
// process: the demo channel's WSX gateway, a WSX channel with zato.helpers.echo mounted directly, a plain JSON
// channel with it), the same three built in another checkout (`--baseline`), a naive `ws` JSON echo and Node-RED.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killAll, runJson, spawnNode, startSwitchboard } from '../lib/processes.mjs';
import { NODE_RED_PATH, startNodeRed } from './nodered.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const loadgen = join(here, '..', 'lib', 'loadgen.mjs');

/** Drives one target with the load generator (its own process); the server's CPU is read from /proc. */
export function load(child, target, shape, o) {
  const args = { host: '127.0.0.1', ...target, ...shape, warmupMs: o.warmupMs, durationMs: o.durationMs };
  return runJson(loadgen, [JSON.stringify({ ...args, serverPid: child.pid })]);
}

/** What each server key measures, as the report labels it. */
export const LABELS = {
  switchboard: 'switchboard, WSX gateway',
  direct: 'switchboard, WSX direct',
  plain: 'switchboard, plain',
  base: 'switchboard@base, gateway',
  'base-plain': 'switchboard@base, plain',
  ws: 'naive ws echo',
  'ws-wsx': 'naive ws, WSX frames',
  floor: 'floor (hand-framed, no ws)',
  nodered: 'node-red 4.1',
};

// No connection limits: the bench opens up to 2,000 connections from 127.0.0.1 (the defaults are 256 and 64 per IP).
const UNLIMITED = { maxConnections: null, maxConnectionsPerIp: null };

/**
 * A Switchboard with its three channels, their limits lifted; `targets` says where each key's load goes. Keys other
 * than `switchboard` (the demo channel) are only set up when asked for. `spawn` (`nodeArgs`, `fdLimit`, `env`) is passed
 * to `startSwitchboard`.
 */
export async function startSwitchboardChannels(name, keys, checkout, spawn = {}) {
  const sb = await startSwitchboard(name, { checkout, ...spawn });
  const { runtime, ...demo } = await sb.api('GET', '/api/channels/wsx/demo');
  await sb.api('PUT', '/api/channels/wsx/demo', { ...demo, ...UNLIMITED });
  const demoUrl = new URL(sb.demoUrl);
  const targets = { switchboard: { port: Number(demoUrl.port), path: demoUrl.pathname, mode: 'zato' } };
  for (const [key, protocol, mode] of [
    ['direct', 'zato', 'zato-direct'],
    ['plain', 'plain', 'json'],
  ]) {
    if (!keys.includes(key)) continue;
    const port = await freePort();
    await sb.api('POST', '/api/channels/wsx', {
      name: `echo-${key}`,
      service: 'zato.helpers.echo',
      protocol,
      ...(protocol === 'plain' ? { dataFormat: 'json' } : {}),
      address: `ws://127.0.0.1:${port}/echo`,
      ...UNLIMITED,
    });
    targets[key] = { port, path: '/echo', mode };
  }
  await waitListening(sb, keys);
  return { child: sb.child, api: sb.api, targets, stop: () => rmSync(sb.dir, { recursive: true, force: true }) };
}

async function waitListening(sb, keys) {
  const names = ['demo', ...keys.filter((k) => k === 'direct' || k === 'plain').map((k) => `echo-${k}`)];
  for (const channel of names) {
    for (let i = 0; ; i++) {
      const { runtime } = await sb.api('GET', `/api/channels/wsx/${channel}`);
      if (runtime?.state === 'listening') break;
      if (i > 100) throw new Error(`channel ${channel} is not listening: ${JSON.stringify(runtime)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The naive ws echo server; `spawn` (`nodeArgs`, `fdLimit`, `env`) is `spawnNode`'s. */
export async function startWsEcho({ env, ...spawn } = {}) {
  const port = await freePort();
  const child = spawnNode(join(here, 'ws-echo-server.mjs'), [String(port)], {
    ...spawn,
    ...(env ? { env: { ...process.env, ...env } } : {}),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const ws = { port, path: '/', mode: 'json' };
  return { child, targets: { ws, 'ws-wsx': { ...ws, wsxFrames: true } }, stop: () => undefined };
}

/** The floor server (floor-echo-server.mjs): hand-made frames on the raw socket, one write per read. */
async function startFloorEcho() {
  const port = await freePort();
  const child = spawnNode(join(here, 'floor-echo-server.mjs'), [String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return { child, targets: { floor: { port, path: '/', mode: 'json' } }, stop: () => undefined };
}

async function startRed() {
  const port = await freePort();
  const { child, userDir } = await startNodeRed(port);
  return {
    child,
    targets: { nodered: { port, path: NODE_RED_PATH, mode: 'json' } },
    stop: () => rmSync(userDir, { recursive: true, force: true }),
  };
}

/**
 * The processes a round starts, in order, each with the keys it serves: one Switchboard for its three channels,
 * the baseline's, ws, the floor, Node-RED. `wanted` are the keys asked for.
 */
export function processes(wanted, baseline) {
  const ours = wanted.filter((k) => ['switchboard', 'direct', 'plain'].includes(k));
  const list = [];
  if (ours.length) list.push({ keys: ours, start: () => startSwitchboardChannels('echo', ours) });
  const bases = wanted.filter((k) => k === 'base' || k === 'base-plain');
  if (bases.length)
    list.push({
      keys: bases,
      start: async () => {
        const s = await startSwitchboardChannels('echo-base', bases.includes('base-plain') ? ['plain'] : [], baseline);
        return { ...s, targets: { base: s.targets.switchboard, 'base-plain': s.targets.plain } };
      },
    });
  const naive = wanted.filter((k) => k === 'ws' || k === 'ws-wsx');
  if (naive.length) list.push({ keys: naive, start: () => startWsEcho() });
  if (wanted.includes('floor')) list.push({ keys: ['floor'], start: startFloorEcho });
  if (wanted.includes('nodered')) list.push({ keys: ['nodered'], start: startRed });
  return list;
}

/** Stops a started process and everything it spawned. */
export function stopProcess(p) {
  killAll();
  p.stop();
}
