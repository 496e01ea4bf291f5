// Several servers on one host (issue 12 item 6): each has a name (serverName, shown in /api/health and logged at
// start), and portOffset moves every channel's port when it listens, without changing the stored address.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { TestClient } from './helpers/wsx-client.js';
import { freePort, removeServerData, startTestServer, testDb, waitFor, type TestServer } from './helpers/server.js';
import { loadSettings, startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function started(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer(overrides);
  servers.push(s);
  return s;
}

/** True when nothing listens on 127.0.0.1:`port` (bound and released at once). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A free port and an offset such that port + offset is free too. */
async function portAndOffset(): Promise<{ port: number; offset: number }> {
  for (;;) {
    const port = await freePort();
    const offset = 1 + Math.floor(Math.random() * Math.min(10_000, 65_535 - port));
    if (port + offset <= 65_535 && (await isFree(port + offset))) return { port, offset };
  }
}

async function echoes(url: string): Promise<string> {
  const client = await TestClient.connect(url);
  try {
    client.send('who is there');
    return await client.nextText();
  } finally {
    client.close();
  }
}

describe('portOffset', () => {
  test('two servers serve the same channel definition on different real ports; the stored address stays', async () => {
    const { port, offset } = await portAndOffset();
    const address = `ws://127.0.0.1:${port}/same`;
    const plain = await started();
    const moved = await started({ portOffset: offset });
    const channel = { name: 'same', address, service: 'zato.helpers.echo', protocol: 'plain' };
    for (const s of [plain, moved]) assert.equal((await s.api('POST', '/api/channels/wsx', channel)).status, 201);

    const movedUrl = `ws://127.0.0.1:${port + offset}/same`;
    assert.equal(await echoes(address), 'who is there', 'the server without an offset listens on the stored port');
    assert.equal(await echoes(movedUrl), 'who is there', 'the other one on the stored port plus its offset');

    const own = (await plain.api('GET', '/api/channels/wsx/same')).body;
    const other = (await moved.api('GET', '/api/channels/wsx/same')).body;
    assert.equal(other.address, address, 'the stored address does not change');
    const listed = (await moved.api('GET', '/api/channels/wsx')).body as Array<{ name: string; runtime: unknown }>;
    const runtime = listed.find((c) => c.name === 'same')!.runtime as { port: number; listenAddress?: string };
    assert.equal(runtime.port, port + offset);
    assert.equal(runtime.listenAddress, movedUrl);
    const plainRuntime = ((await plain.api('GET', '/api/channels/wsx')).body as Array<{ runtime: object }>)[0]!.runtime;
    assert.equal('listenAddress' in plainRuntime, false, 'no listenAddress without an offset');
    assert.equal(own.address, address);

    // Stopping one leaves the other serving.
    await plain.stop();
    assert.equal(await echoes(movedUrl), 'who is there');
  });

  test('a channel whose port plus the offset is past 65535 is in error, naming where it tried to listen', async () => {
    const s = await started({ portOffset: 10_000 });
    const res = await s.api('POST', '/api/channels/wsx', {
      name: 'too-high',
      address: 'ws://127.0.0.1:60000/x',
      service: 'zato.helpers.echo',
    });
    assert.equal(res.status, 201);
    const state = await waitFor(async () => {
      const list = (await s.api('GET', '/api/channels/wsx')).body as Array<{ runtime: { state: string; error?: string } }>;
      return list[0]!.runtime.state === 'error' ? list[0]!.runtime : undefined;
    });
    assert.match(state.error!, /Cannot listen on 127\.0\.0\.1:70000/);
  });

  test('a bad offset is a start-up error naming it', async () => {
    for (const bad of ['-1', '10001', '1.5', 'ten'])
      assert.throws(
        () => loadSettings({}, { SWITCHBOARD_PORT_OFFSET: bad }, tmpdir()),
        new RegExp(`portOffset must be a whole number from 0 to 10000 \\(got ${bad.replace('.', '\\.')}\\)`),
      );
    assert.equal(loadSettings({}, { SWITCHBOARD_PORT_OFFSET: '250' }, tmpdir()).portOffset, 250);
    assert.equal(loadSettings({}, {}, tmpdir()).portOffset, 0);
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-offset-'));
    try {
      await assert.rejects(
        startServer({ dataDir: dir, adminPort: 0, demo: false, portOffset: 20_000, ...testDb(dir) }, silentLogger()),
        /portOffset must be a whole number from 0 to 10000 \(got 20000\)/,
      );
    } finally {
      await removeServerData(dir);
    }
  });
});

describe('serverName', () => {
  test('defaults to the host name and the admin port, and /api/health shows it as server', async () => {
    const s = await started();
    assert.equal(s.serverName, `${hostname()}:${new URL(s.adminUrl).port}`);
    const health = (await (await fetch(`${s.adminUrl}/api/health`)).json()) as Record<string, unknown>;
    assert.equal(health.status, 'ok');
    assert.equal(typeof health.version, 'string');
    assert.equal(health.server, s.serverName);
  });

  test('SWITCHBOARD_SERVER_NAME names the server; the name is logged at start', async () => {
    assert.equal(loadSettings({}, { SWITCHBOARD_SERVER_NAME: 'node-b' }, tmpdir()).serverName, 'node-b');
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-name-'));
    const s = await startServer(
      { dataDir: dir, adminPort: 0, demo: false, serverName: 'node-b', ...testDb(dir) },
      pino({ level: 'info' }, stream),
    );
    try {
      assert.equal(s.serverName, 'node-b');
      assert.equal(((await (await fetch(`${s.adminUrl}/api/health`)).json()) as { server: string }).server, 'node-b');
      assert.ok(
        lines.some((l) => l.msg === 'Server started' && l.server === 'node-b'),
        JSON.stringify(lines.map((l) => l.msg)),
      );
    } finally {
      await s.close();
      await removeServerData(dir);
    }
  });
});
