import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createChannel, freePort, waitFor, type TestServer } from './helpers/server.js';
import { PlainRemote } from './helpers/plain-remote.js';
import { BadHook, startOutgoingTestBed, type OutgoingTestBed } from './helpers/outgoing.js';

let server: TestServer;
let zatoUrl: string;
let outgoing: OutgoingTestBed['outgoing'];
let state: OutgoingTestBed['state'];
let connected: OutgoingTestBed['connected'];
let call: OutgoingTestBed['call'];

before(async () => {
  ({ server, zatoUrl, outgoing, state, connected, call } = await startOutgoingTestBed());
});
after(() => server.stop());

describe('outgoing connections: faults', () => {
  test('remote not listening at start: reconnecting with the error, then connects once it is up', async () => {
    const port = await freePort();
    await outgoing({ name: 'late-remote', address: `ws://127.0.0.1:${port}/remote` });
    await waitFor(() => /ECONNREFUSED/.test(state('late-remote').lastError ?? ''), 3000, 'ECONNREFUSED');
    assert.equal(state('late-remote').state, 'reconnecting');
    const api = (await server.api('GET', '/api/outgoing/wsx/late-remote')).body;
    assert.equal(api.runtime.state, 'reconnecting');
    const remote = await PlainRemote.start(port);
    try {
      await connected('late-remote');
    } finally {
      await remote.kill();
    }
  });

  test('remote refuses the upgrade (404, 401): the status is the last error', async () => {
    const port = new URL(zatoUrl).port;
    await outgoing({ name: 'wrong-path', address: `ws://127.0.0.1:${port}/no-such-path` });
    await waitFor(() => /404/.test(state('wrong-path').lastError ?? ''), 3000, '404');
    await server.api('POST', '/api/security', { name: 'plain-sec', type: 'basic_auth', username: 'a', password: 'b' });
    const securedPlain = await createChannel(server, {
      name: 'secured-plain',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      security: 'plain-sec',
    });
    await outgoing({ name: 'no-basic', address: securedPlain });
    await waitFor(() => /401/.test(state('no-basic').lastError ?? ''), 3000, '401');
  });

  test('remote never answers the upgrade: handshake timeout, then retries', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    try {
      await outgoing({ name: 'silent-upgrade', address: `ws://127.0.0.1:${port}/x`, connectTimeout: 0.2 });
      await waitFor(() => /timed out/i.test(state('silent-upgrade').lastError ?? ''), 3000, 'handshake timeout');
      await waitFor(() => sockets.length >= 2, 3000, 'a retry');
    } finally {
      await server.api('DELETE', '/api/outgoing/wsx/silent-upgrade');
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('remote never answers a request: a typed response_timeout', async () => {
    // A fake Zato remote: grants a session, then ignores every request.
    const remote = await PlainRemote.start(await freePort(), (ws, text) => {
      const frame = JSON.parse(text);
      if (frame.meta.action === 'create-session') {
        ws.send(
          JSON.stringify({
            meta: { id: 'a', timestamp: '', msg_type: 'zwsx.rspa', status: 200, in_reply_to: frame.meta.id },
            data: { token: 'zwsxt.1' },
          }),
        );
      }
    });
    try {
      await outgoing({ name: 'mute', address: remote.url, isZato: true, responseTimeout: 0.2 });
      await connected('mute');
      const res = await call('mute', { service: 'x' });
      assert.equal(res.status, 504);
      assert.equal(res.body.error.code, 'response_timeout');
    } finally {
      await remote.kill();
    }
  });

  test('remote closes mid-invoke: the pending call fails at once, then it reconnects', async () => {
    await outgoing({ name: 'cut', address: zatoUrl, isZato: true, responseTimeout: 10 });
    await connected('cut');
    const started = Date.now();
    const pending = call('cut', { service: 'test.slow', request: { ms: 3000 } });
    const handle = server.channelManager.channel('remote');
    const client = await waitFor(() => handle.clients().find((c) => c.extClientName === 'switchboard:cut'), 2000, 'client');
    await new Promise((r) => setTimeout(r, 50));
    await handle.disconnect(client.pubClientId);
    const res = await pending;
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'connection_closed');
    assert.ok(Date.now() - started < 2000, 'failed at once, not after the timeout');
    await connected('cut');
  });

  test('an oversized reply closes the socket (1009), fails the call, and the connection comes back', async () => {
    await outgoing({ name: 'small-replies', address: zatoUrl, isZato: true, maxMessageSize: 1024 });
    await connected('small-replies');
    const res = await call('small-replies', { service: 'zato.helpers.echo', request: 'z'.repeat(5000) });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'connection_closed');
    assert.match(res.body.error.message, /Max payload size exceeded/);
    await connected('small-replies');
  });

  test('invoking while reconnecting waits up to acquireTimeout, then a typed error', async () => {
    const port = await freePort();
    await outgoing({ name: 'down', address: `ws://127.0.0.1:${port}/x`, acquireTimeout: 0.25 });
    const started = Date.now();
    const res = await call('down', 'x');
    assert.equal(res.body.error.code, 'acquire_timeout');
    assert.ok(Date.now() - started >= 200);
  });

  test('a call that starts while reconnecting succeeds once the remote is back within acquireTimeout', async () => {
    const port = await freePort();
    await outgoing({ name: 'comes-back', address: `ws://127.0.0.1:${port}/remote`, acquireTimeout: 3 });
    const pending = call('comes-back', 'hello');
    await new Promise((r) => setTimeout(r, 100));
    const remote = await PlainRemote.start(port);
    try {
      assert.equal((await pending).status, 200);
      await waitFor(() => remote.received.includes('hello'), 2000, 'delivery');
    } finally {
      await remote.kill();
    }
  });

  test('editing the address while calls are in flight: they fail as stopped; new calls use the new address', async () => {
    const secondUrl = await createChannel(server, {
      name: 'remote-2',
      service: 'helpers.web-sockets-gateway',
      gatewayServices: ['test.*'],
    });
    const created = await outgoing({ name: 'moving', address: zatoUrl, isZato: true });
    await connected('moving');
    const inFlight = call('moving', { service: 'test.slow', request: { ms: 2000 } });
    await new Promise((r) => setTimeout(r, 50));
    const { runtime: _r, ...config } = created;
    assert.equal((await server.api('PUT', '/api/outgoing/wsx/moving', { ...config, address: secondUrl })).status, 200);
    const res = await inFlight;
    assert.equal(res.body.error.code, 'connection_stopped');
    await connected('moving');
    assert.equal((await call('moving', { service: 'zato.ping' })).status, 200);
    assert.ok(
      server.channelManager
        .channel('remote-2')
        .clients()
        .some((c) => c.extClientName === 'switchboard:moving'),
    );
  });

  test('deactivating closes the connection live and reactivating reconnects', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      const created = await outgoing({ name: 'toggled', address: remote.url });
      await connected('toggled');
      const { runtime: _r, ...config } = created;
      assert.equal(
        (await server.api('PUT', '/api/outgoing/wsx/toggled', { ...config, isActive: false })).body.runtime.state,
        'stopped',
      );
      await waitFor(() => remote.sockets.size === 0, 2000, 'the socket to close');
      assert.equal((await call('toggled', 'x')).body.error.code, 'outgoing_not_found');
      await server.api('PUT', '/api/outgoing/wsx/toggled', { ...config, isActive: true });
      await connected('toggled');
      assert.equal(remote.connections, 2);
    } finally {
      await remote.kill();
    }
  });

  test('delete closes deliberately: no CLOSE hook, no reconnect', async () => {
    const remote = await PlainRemote.start(await freePort());
    try {
      BadHook.calls = 0;
      await outgoing({ name: 'deleted', address: remote.url, onCloseService: 'test.bad-hook' });
      await connected('deleted');
      assert.equal((await server.api('DELETE', '/api/outgoing/wsx/deleted')).status, 200);
      await waitFor(() => remote.sockets.size === 0, 2000, 'the socket to close');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(remote.connections, 1);
      assert.equal(BadHook.calls, 0);
      assert.equal((await call('deleted', 'x')).body.error.code, 'outgoing_not_found');
    } finally {
      await remote.kill();
    }
  });
});

describe('backoff resets after a stable connection', () => {
  test('a connection that stayed up resetAfter starts again from the initial delay', async () => {
    const port = await freePort();
    const reconnect = { initial: 0.05, factor: 10, max: 5, resetAfter: 0.2 };
    await server.api('POST', '/api/outgoing/wsx', {
      name: 'resets',
      address: `ws://127.0.0.1:${port}/remote`,
      reconnect,
      pingInterval: 0,
    });
    // Three failed attempts push the ceiling to 5 s...
    await waitFor(() => (server.outgoingManager.get('resets').conn.sockets[0]!.reconnects ?? 0) >= 3, 5000, 'failed attempts');
    const remote = await PlainRemote.start(port);
    try {
      await waitFor(() => state('resets').state === 'connected', 10_000, 'connected');
      await new Promise((r) => setTimeout(r, 300));
      // Read the delay the moment the first reconnect is scheduled (a slow machine may see later attempts).
      const socket = server.outgoingManager.get('resets').conn.sockets[0]!;
      const firstDelay = new Promise<number>((resolve) =>
        socket.on('state', function onState(st: string) {
          if (st !== 'reconnecting') return;
          socket.off('state', onState);
          resolve(socket.nextAttemptAt!.getTime() - Date.now());
        }),
      );
      await remote.kill();
      // ...but after a stable connection the next delay is at most the initial 50 ms again.
      assert.ok((await firstDelay) <= 50);
    } finally {
      await remote.kill();
      await server.api('DELETE', '/api/outgoing/wsx/resets');
    }
  });
});
