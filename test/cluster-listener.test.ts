// The cluster's LISTEN connection against the real PostgreSQL: NOTIFYs heard, scopes apart, a terminated backend
// and a black-holed connection (a TCP proxy that stops forwarding) both reconnected, nothing left after close().
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { ClusterListener, channelName, type ClusterListenerOptions } from '../src/cluster/index.js';
import { ConnectionClosedError, ValidationError } from '../src/errors/index.js';
import { adminUrl, pgQuery, postgresUnavailable, schemaName } from './helpers/postgres.js';
import { freePort } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const unavailable = await postgresUnavailable();
const FAST = { initial: 0.02, max: 0.2, factor: 2 };
const open: ClusterListener[] = [];

/** A listener of the test's own, closed after the file; its application_name is unique so a test can find it. */
function listener(channels: string[], extra: Partial<ClusterListenerOptions> = {}): ClusterListener {
  const l = new ClusterListener({
    connectionString: adminUrl(),
    applicationName: schemaName('sbt_listen'),
    channels,
    reconnect: FAST,
    ...extra,
  });
  open.push(l);
  return l;
}

function channels(...suffixes: string[]): string[] {
  const scope = schemaName('scope');
  return suffixes.map((s) => channelName(scope, s));
}

/** The next notification on `l`, as [channel, payload]. */
function nextNotification(l: ClusterListener): Promise<[string, string]> {
  return once(l, 'notification') as Promise<[string, string]>;
}

async function notify(channel: string, payload: string): Promise<void> {
  await pgQuery('select pg_notify($1, $2)', [channel, payload]);
}

/** The URL of the test database through a proxy. */
function via(proxy: TcpProxy): string {
  const url = new URL(adminUrl());
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

/** Lines a pino logger wrote, parsed. */
function capturedLogger(): { logger: Logger; lines: { msg: string }[] } {
  const lines: { msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('channelName', () => {
  test('is stable, lower case, at most 63 bytes, and differs by scope', () => {
    const long = 'x'.repeat(51);
    for (const scope of ['public', 'sbt_' + 'a'.repeat(59), 'Schema "weird" €']) {
      const name = channelName(scope, long);
      assert.equal(name, channelName(scope, long));
      assert.match(name, /^sb_[0-9a-f]{8}_x{51}$/);
      assert.ok(Buffer.byteLength(name) <= 63, name);
    }
    assert.equal(channelName('public', 'config'), 'sb_efa1f375_config');
    assert.notEqual(channelName('a', 'config'), channelName('b', 'config'));
  });

  test('refuses a suffix that is empty, too long, upper case or not an identifier', () => {
    for (const suffix of ['', 'x'.repeat(52), 'Config', 'srv.1234', 'a b', 'a"b']) {
      assert.throws(
        () => channelName('public', suffix),
        (err: unknown) => err instanceof ValidationError && err.field === 'suffix',
        suffix,
      );
    }
  });
});

describe('ClusterListener options', () => {
  const base = { connectionString: adminUrl(), applicationName: 'x', channels: ['sb_ok'] };
  const bad: [string, Partial<ClusterListenerOptions>][] = [
    ['channels', { channels: [] }],
    ['channels', { channels: ['sb_ok', 'Upper'] }],
    ['channels', { channels: ['x'.repeat(64)] }],
    ['channels', { channels: ['a"; drop table t; --'] }],
    ['probeIntervalMs', { probeIntervalMs: 0 }],
    ['probeTimeoutMs', { probeTimeoutMs: Number.NaN }],
    ['reconnect', { reconnect: { initial: 0, max: 1, factor: 2 } }],
    ['reconnect', { reconnect: { initial: 2, max: 1, factor: 2 } }],
    ['reconnect', { reconnect: { initial: 1, max: 2, factor: 0.5 } }],
  ];
  for (const [field, options] of bad) {
    test(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new ClusterListener({ ...base, ...options }),
        (err: unknown) => err instanceof ValidationError && err.field === field,
      );
    });
  }
});

describe('ClusterListener on PostgreSQL', { skip: unavailable }, () => {
  after(async () => {
    await Promise.all(open.map((l) => l.close()));
  });

  test('hears a NOTIFY on each of its channels, payload as sent, an empty one too', async () => {
    const [config, gd] = channels('config', 'gd') as [string, string];
    const l = listener([config, gd]);
    const listening = once(l, 'listening');
    await l.start();
    assert.deepEqual(await listening, [false]);
    assert.equal(l.connected, true);
    for (const [channel, payload] of [
      [config, '{"id":1}'],
      [gd, '{"topics":["/a","€"]}'],
      [gd, ''],
    ] as const) {
      const heard = nextNotification(l);
      await notify(channel, payload);
      assert.deepEqual(await heard, [channel, payload]);
    }
    assert.equal(l.reconnects, 0);
  });

  test('clusters in two schemas do not hear each other', async () => {
    const a = listener([channelName('sbt_schema_a', 'config')]);
    const b = listener([channelName('sbt_schema_b', 'config')]);
    await Promise.all([a.start(), b.start()]);
    const heardByB = nextNotification(b);
    // One connection sends both, in order: if B had heard A's it would have heard it first.
    await pgQuery(`select pg_notify($1, 'for a'), pg_notify($2, 'for b')`, [
      channelName('sbt_schema_a', 'config'),
      channelName('sbt_schema_b', 'config'),
    ]);
    assert.deepEqual(await heardByB, [channelName('sbt_schema_b', 'config'), 'for b']);
  });

  test('a handler that throws is logged and the listener keeps hearing', async () => {
    const [channel] = channels('x') as [string];
    const { logger, lines } = capturedLogger();
    const l = listener([channel], { logger });
    await l.start();
    l.once('notification', () => {
      throw new Error('consumer bug');
    });
    await notify(channel, 'first');
    const heard = nextNotification(l);
    await notify(channel, 'second');
    assert.deepEqual(await heard, [channel, 'second']);
    assert.ok(lines.some((line) => line.msg === 'A cluster listener handler threw'));
  });

  test('its backend terminated: lost, LISTENing again, counted, and NOTIFYs arrive again', async () => {
    const [channel] = channels('config') as [string];
    const prefix = schemaName('sbt_listen');
    const name = `${prefix}_${'x'.repeat(80)}`;
    const l = listener([channel], { applicationName: name });
    await l.start();
    const rows = await pgQuery<{ pid: number; application_name: string }>(
      `select pid, application_name from pg_stat_activity where application_name like $1`,
      [`${prefix}%`],
    );
    assert.equal(rows.length, 1);
    const cut = rows[0]?.application_name ?? '';
    assert.equal(cut, name.slice(0, 63), 'cut to 63 bytes');
    const lost = once(l, 'lost');
    const back = once(l, 'listening');
    await pgQuery('select pg_terminate_backend($1)', [rows[0]?.pid]);
    const [reason] = (await lost) as [string];
    assert.match(reason, /terminat/i);
    assert.deepEqual(await back, [true]);
    assert.equal(l.reconnects, 1);
    assert.equal(l.connected, true);
    const heard = nextNotification(l);
    await notify(channel, 'after');
    assert.deepEqual(await heard, [channel, 'after']);
  });

  test('a probe nobody answers (the connection black-holed): lost, then a new connection', async (t) => {
    const proxy = await TcpProxy.start(Number(new URL(adminUrl()).port || 5432));
    t.after(() => proxy.close());
    const [channel] = channels('gd') as [string];
    const l = listener([channel], { connectionString: via(proxy), probeIntervalMs: 20, probeTimeoutMs: 300 });
    await l.start();
    const lost = once(l, 'lost');
    const back = once(l, 'listening');
    proxy.stall();
    assert.deepEqual(await lost, ['no answer to a probe within 300 ms']);
    assert.deepEqual(await back, [true]);
    const heard = nextNotification(l);
    await notify(channel, 'through the new connection');
    assert.deepEqual(await heard, [channel, 'through the new connection']);
  });

  test('a database that refuses for a while: each failed attempt logged, one reconnect counted once back', async (t) => {
    const proxy = await TcpProxy.start(Number(new URL(adminUrl()).port || 5432));
    t.after(() => proxy.close());
    const { logger, lines } = capturedLogger();
    const l = listener(channels('config'), { connectionString: via(proxy), logger });
    await l.start();
    proxy.refuse(true);
    const lost = once(l, 'lost');
    await proxy.cut();
    await lost;
    const failed = (): number => lines.filter((line) => line.msg === 'Cluster listener could not reconnect').length;
    while (failed() < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(l.connected, false);
    const back = once(l, 'listening');
    proxy.refuse(false);
    assert.deepEqual(await back, [true]);
    assert.equal(l.reconnects, 1);
    assert.equal(lines.filter((line) => line.msg.startsWith('Cluster listener lost')).length, 1);
  });

  test('start() against a port nobody listens on rejects naming host and port; start() twice is refused', async () => {
    const port = await freePort();
    const l = listener(['sb_nobody'], { connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    await assert.rejects(
      l.start(),
      (err: unknown) =>
        err instanceof ConnectionClosedError && err.code === 'not_connected' && err.message.includes(`127.0.0.1:${port}`),
    );
    assert.equal(l.connected, false);
    await assert.rejects(l.start(), (err: unknown) => err instanceof ConnectionClosedError);
    const bad = listener(['sb_nobody'], { connectionString: 'postgres://[bad' });
    await assert.rejects(bad.start(), /not a valid postgres:\/\/ URL/);
  });

  test('close() is idempotent and a closed listener hears nothing more', async () => {
    const [channel] = channels('config') as [string];
    const l = listener([channel]);
    await l.start();
    await l.close();
    await l.close();
    assert.equal(l.connected, false);
    const rows = await pgQuery(`select 1 from pg_stat_activity where query ilike 'listen%' and query like $1`, [`%${channel}%`]);
    assert.equal(rows.length, 0, 'its backend is gone');
  });

  for (const when of ['waiting to reconnect', 'connecting'] as const) {
    test(`close() while ${when} leaves nothing running: the process exits on its own`, async () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, when, adminUrl()], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      // A guard, not a measurement: a leaked timer or socket keeps the child alive until it is killed here.
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(guard);
      assert.equal(code, 0, out);
      assert.match(out, when === 'connecting' ? /^start: .*closed while connecting/m : /^lost$/m);
      assert.match(out, /^closed$/m);
      const expected = when === 'connecting' ? 'TCPServerWrap,TCPSocketWrap' : 'TCPServerWrap';
      assert.match(out, new RegExp(`^open: ${expected}$`, 'm'), 'nothing of the listener is open after close()');
    });
  }
});

const dist = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
// The child: a listener brought to the state named and closed; it prints what is still open then (its own
// server, and in 'connecting' the one socket the server accepted, held open half-closed), and must then exit.
const CHILD = `
import { once } from 'node:events';
import { createServer } from 'node:net';
const { ClusterListener } = await import(${JSON.stringify(dist('../src/cluster/index.js'))});
const { TcpProxy } = await import(${JSON.stringify(dist('./helpers/tcp-proxy.js'))});
const [when, pgUrl] = process.argv.slice(1);
const options = (port) => ({
  connectionString: Object.assign(new URL(pgUrl), { hostname: '127.0.0.1', port: String(port) }).toString(),
  applicationName: 'sbt_listen_child',
  channels: ['sb_child'],
  reconnect: { initial: 3600, max: 3600, factor: 1 },
});
const open = () => process.getActiveResourcesInfo().filter((r) => /TCP|Timeout/.test(r)).sort().join(',');
if (when === 'connecting') {
  const peers = [];
  const hole = createServer({ allowHalfOpen: true }, (s) => peers.push(s));
  await new Promise((r) => hole.listen(0, '127.0.0.1', r));
  const l = new ClusterListener(options(hole.address().port));
  const started = l.start().then(() => 'started', (e) => e.message);
  await once(hole, 'connection');
  await l.close();
  console.log('start: ' + (await started));
  console.log('open: ' + open());
  for (const s of peers) s.destroy();
  hole.close();
} else {
  const proxy = await TcpProxy.start(Number(new URL(pgUrl).port || 5432));
  const l = new ClusterListener(options(proxy.port));
  await l.start();
  const lost = once(l, 'lost');
  proxy.refuse(true);
  await proxy.cut();
  await lost;
  console.log('lost');
  await l.close();
  console.log('open: ' + open());
  await proxy.close();
}
console.log('closed');
`;
