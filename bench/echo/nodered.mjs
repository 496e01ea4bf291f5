// Node-RED 4.1 (5.x needs Node 22), installed into bench/.peers/nodered on first use, running the flow
// websocket-in → function → websocket-out on one listener path: each message is answered to its sender.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, spawnTracked } from '../lib/processes.mjs';

const PREFIX = join(root, 'bench', '.peers', 'nodered');
const RED = join(PREFIX, 'node_modules', 'node-red', 'red.js');
export const NODE_RED_PATH = '/ws/echo';

/** Installs Node-RED 4.1.x from the npm registry unless it is already there. */
export function ensureNodeRed() {
  if (existsSync(RED)) return;
  console.log('[bench] installing node-red@~4.1.15 into bench/.peers/nodered (first run only)…');
  execFileSync('npm', ['install', '--prefix', PREFIX, 'node-red@~4.1.15', '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  });
}

/** Starts Node-RED on `port` with the echo flow; resolves once its websocket listener answers. */
export async function startNodeRed(port) {
  ensureNodeRed();
  const userDir = mkdtempSync(join(tmpdir(), 'sb-bench-nodered-'));
  const flow = [
    { id: 'tab1', type: 'tab', label: 'echo' },
    { id: 'listener', type: 'websocket-listener', path: NODE_RED_PATH, wholemsg: 'false' },
    { id: 'in', type: 'websocket in', z: 'tab1', server: 'listener', client: '', wires: [['fn']] },
    // A JSON echo like the others: parse the request, serialize the reply.
    {
      id: 'fn',
      type: 'function',
      z: 'tab1',
      func: 'msg.payload = JSON.stringify(JSON.parse(msg.payload));\nreturn msg;',
      outputs: 1,
      wires: [['out']],
    },
    { id: 'out', type: 'websocket out', z: 'tab1', server: 'listener', client: '', wires: [] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', httpAdminRoot: false, disableEditor: true, ` +
      `logging: { console: { level: 'warn' } }, credentialSecret: false, telemetry: { enabled: false } };\n`,
  );
  const child = spawnTracked(process.execPath, [RED, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const { default: WebSocket } = await import('ws');
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with ${child.exitCode}`);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${NODE_RED_PATH}`);
      const echoed = await new Promise((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send('{"probe":1}'));
        ws.once('message', (d) => resolve(d.toString()));
      });
      ws.terminate();
      if (echoed === '{"probe":1}') return { child, userDir };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('Node-RED did not start echoing within 30 s');
}
