// docs/cluster.md's HAProxy example, run as written (ports moved to free ones) in front of three real servers on one
// PostgreSQL schema: clients spread over the servers, and when one is killed its clients reconnect to the others.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { ClusterDescription } from '../src/cluster/index.js';
import { TestCluster, type ClusterServer } from './helpers/cluster.js';
import { postgresUnavailable } from './helpers/postgres.js';
import { freePort, waitFor } from './helpers/server.js';

const HAPROXY = '/usr/sbin/haproxy';
const DOC = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'docs', 'cluster.md');
const CLIENTS = 30;

function skipReason(pg: string | undefined): string | false {
  if (pg) return pg;
  if (existsSync(HAPROXY)) return false;
  // scripts/run-tests.mjs installs it (apt-get); under CI a missing HAProxy fails the run there.
  return `${HAPROXY} is missing (apt-get install haproxy)`;
}
const skip = skipReason(await postgresUnavailable());

/** The documented haproxy.cfg with its example ports replaced by this run's. */
function documentedConfig(ports: Record<number, number>): string {
  const text = readFileSync(DOC, 'utf8');
  const block = /```haproxy\n([\s\S]*?)```/.exec(text)?.[1];
  assert.ok(block, 'docs/cluster.md has no ```haproxy block');
  return block.replace(/\b(48800|48900|49000|49100|17010|17020|17030)\b/g, (p) => String(ports[Number(p)] ?? p));
}

/** A plain WebSocket through the load balancer that answers one echo. */
async function echoThrough(url: string, text: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const answer = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  ws.send(text);
  assert.equal(await answer, text);
  return ws;
}

/** Retries until a connection through the load balancer opens and echoes (a reconnecting client's loop). */
async function reconnect(url: string, text: string, failed: () => string): Promise<WebSocket> {
  return waitFor(
    () => {
      if (failed()) throw new Error(failed());
      return echoThrough(url, text).catch(() => undefined);
    },
    20_000,
    'a reconnect through HAProxy',
  );
}

async function clientsPerServer(server: ClusterServer): Promise<Map<string, number>> {
  const d = (await server.api<ClusterDescription>('GET', '/api/cluster')).body;
  return new Map(d.servers.map((s) => [s.name, s.clients]));
}

describe("docs/cluster.md's load balancer example", { skip }, () => {
  const cluster = new TestCluster();
  let servers: ClusterServer[] = [];
  let haproxy: ChildProcess | undefined;
  let dir = '';
  let url = '';
  let stopping = false;
  let failed = '';

  before(async () => {
    servers = await Promise.all(['web-1', 'web-2', 'web-3'].map((n) => cluster.server(n)));
    for (const s of servers) await s.start();
    const channelPort = await cluster.channelPort();
    const created = await servers[0]!.api('POST', '/api/channels/wsx', {
      name: 'orders',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      address: `ws://127.0.0.1:${channelPort}/orders`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const front = await freePort();
    const [w1, w2, w3] = servers as [ClusterServer, ClusterServer, ClusterServer];
    const config = documentedConfig({
      48800: front,
      48900: channelPort + w1.portOffset,
      49000: channelPort + w2.portOffset,
      49100: channelPort + w3.portOffset,
      17010: w1.adminPort,
      17020: w2.adminPort,
      17030: w3.adminPort,
    });
    dir = await mkdtemp(join(tmpdir(), 'switchboard-haproxy-'));
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    execFileSync(HAPROXY, ['-c', '-q', '-f', file]);
    const proxy = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    haproxy = proxy;
    let said = '';
    proxy.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    proxy.once('exit', (code) => {
      if (!stopping) failed = `haproxy exited with ${code}: ${said}`;
    });
    url = `ws://127.0.0.1:${front}/orders`;
    for (const s of servers)
      await waitFor(
        async () =>
          (await fetch(`${s.wsUrl(channelPort, '/orders').replace('ws:', 'http:')}`).catch(() => undefined)) !== undefined,
        10_000,
        `orders on ${s.name}`,
      );
  });

  after(async () => {
    stopping = true;
    haproxy?.kill('SIGKILL');
    await cluster.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('clients spread over the three servers, and a killed server’s clients reconnect to the other two', async () => {
    const sockets: WebSocket[] = [];
    for (let i = 0; i < CLIENTS; i++) sockets.push(await reconnect(url, `hello ${i}`, () => failed));
    const spread = await waitFor(
      async () => {
        const counts = await clientsPerServer(servers[0]!);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        return total === CLIENTS ? counts : undefined;
      },
      10_000,
      'every client counted in the servers table',
    );
    for (const s of servers) assert.ok((spread.get(s.name) ?? 0) > 0, `no client on ${s.name}: ${JSON.stringify([...spread])}`);

    const victim = servers.reduce((a, b) => ((spread.get(a.name) ?? 0) >= (spread.get(b.name) ?? 0) ? a : b));
    await victim.kill('SIGKILL');
    await waitFor(
      () => sockets.filter((ws) => ws.readyState !== WebSocket.OPEN).length >= (spread.get(victim.name) ?? 0),
      10_000,
      "the victim's clients see their sockets close",
    );
    // Every client of the victim loses its socket; all of them (and the others) go on through the load balancer.
    const survivors = servers.filter((s) => s !== victim);
    let reconnected = 0;
    await Promise.all(
      sockets.map(async (ws, i) => {
        if (ws.readyState === WebSocket.OPEN) return;
        sockets[i] = await reconnect(url, `again ${i}`, () => failed);
        reconnected++;
      }),
    );
    assert.ok(reconnected >= (spread.get(victim.name) ?? 0), `${reconnected} reconnected`);
    const after = await waitFor(
      async () => {
        const counts = await clientsPerServer(survivors[0]!);
        const total = [...counts.values()].reduce((a, b) => a + b, 0);
        return total === CLIENTS && !counts.has(victim.name) ? counts : undefined;
      },
      20_000,
      'the victim reaped and every client on the survivors',
    );
    assert.deepEqual([...after.keys()].sort(), survivors.map((s) => s.name).sort());
    for (const ws of sockets) ws.close();
  });
});
