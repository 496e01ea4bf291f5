import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, freePort, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { deployTestServices } from './helpers/services.js';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
  deployTestServices(server);
});
after(() => server.stop());

async function refused(url: string): Promise<number | string> {
  try {
    const c = await TestClient.connect(url);
    c.close();
    return 'connected';
  } catch (err) {
    return (err as { status?: number; code?: string }).status ?? (err as { code?: string }).code ?? 'error';
  }
}

describe('channels are live: created, changed and deleted with no restart', () => {
  test('two channels share one port, routed by path; an unknown path is 404', async () => {
    const port = await freePort();
    const base = `ws://127.0.0.1:${port}`;
    await server.api('POST', '/api/channels/wsx', {
      name: 'p-echo',
      address: `${base}/echo`,
      service: 'zato.helpers.echo',
      protocol: 'plain',
    });
    await server.api('POST', '/api/channels/wsx', { name: 'p-zato', address: `${base}/zato`, service: 'zato.ping' });
    const plain = await TestClient.connect(`${base}/echo`);
    const zato = await TestClient.connect(`${base}/zato`);
    plain.send('hi');
    assert.equal(await plain.nextText(), 'hi');
    await zato.createSession();
    assert.deepEqual((await zato.invoke({})).data, { pong: 'zato' });
    assert.equal(await refused(`${base}/nowhere`), 404);
    const http = await fetch(`http://127.0.0.1:${port}/echo`);
    assert.equal(http.status, 426);
    plain.close();
    zato.close();
  });

  test('editing the service applies to the next message on an open connection', async () => {
    const url = await createChannel(server, { name: 'editable', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(url);
    client.send('one');
    assert.equal(await client.nextText(), 'one');
    const current = (await server.api('GET', '/api/channels/wsx/editable')).body;
    const { runtime: _runtime, ...config } = current;
    const res = await server.api('PUT', '/api/channels/wsx/editable', { ...config, service: 'zato.ping' });
    assert.equal(res.status, 200);
    client.send('two');
    assert.deepEqual(JSON.parse(await client.nextText()), { pong: 'zato' });
    client.close();
  });

  test('changing the address moves the channel: clients get 1012, the old port is closed, the new one serves', async () => {
    const oldUrl = await createChannel(server, { name: 'mover', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(oldUrl);
    const newPort = await freePort();
    const newUrl = `ws://127.0.0.1:${newPort}/moved`;
    const config = (await server.api('GET', '/api/channels/wsx/mover')).body;
    delete config.runtime;
    assert.equal((await server.api('PUT', '/api/channels/wsx/mover', { ...config, address: newUrl })).status, 200);
    assert.equal((await client.closed).code, 1012);
    assert.equal(await refused(oldUrl), 'ECONNREFUSED');
    const moved = await TestClient.connect(newUrl);
    moved.send('here');
    assert.equal(await moved.nextText(), 'here');
    moved.close();
  });

  test('deactivating closes clients with 1001 and refuses new ones; reactivating serves again', async () => {
    const url = await createChannel(server, { name: 'toggle', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(url);
    const config = (await server.api('GET', '/api/channels/wsx/toggle')).body;
    delete config.runtime;
    const off = await server.api('PUT', '/api/channels/wsx/toggle', { ...config, isActive: false });
    assert.equal(off.body.runtime.state, 'stopped');
    assert.equal((await client.closed).code, 1001);
    assert.equal(await refused(url), 'ECONNREFUSED');
    await server.api('PUT', '/api/channels/wsx/toggle', { ...config, isActive: true });
    const again = await TestClient.connect(url);
    again.close();
  });

  test('deleting a channel closes its clients and its port', async () => {
    const url = await createChannel(server, { name: 'doomed', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(url);
    assert.equal((await server.api('DELETE', '/api/channels/wsx/doomed')).status, 200);
    assert.equal((await client.closed).code, 1001);
    assert.equal(await refused(url), 'ECONNREFUSED');
  });

  test('a port taken by another process puts the channel in the error state, and it is reported', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    try {
      const res = await server.api('POST', '/api/channels/wsx', {
        name: 'blocked',
        address: `ws://127.0.0.1:${port}/x`,
        service: 'zato.ping',
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.runtime.state, 'error');
      assert.match(res.body.runtime.error, /EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  test('a second channel at the same address is refused with 409', async () => {
    const url = await createChannel(server, { name: 'first', service: 'zato.ping' });
    const res = await server.api('POST', '/api/channels/wsx', { name: 'second', address: url, service: 'zato.ping' });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'address_in_use');
    assert.equal(res.body.error.field, 'address');
  });

  test('a channel is stored in SQLite and listens again after a restart', async () => {
    const own = await startTestServer();
    const url = await createChannel(own, { name: 'durable', service: 'zato.helpers.echo', protocol: 'plain' });
    await own.close();
    const restarted = await startServer({ ...own.settings, adminPort: 0 }, silentLogger());
    try {
      await waitFor(() => restarted.channelManager.state('durable').state === 'listening', 3000, 'durable channel');
      const client = await TestClient.connect(url);
      client.send('still here');
      assert.equal(await client.nextText(), 'still here');
      client.close();
    } finally {
      await restarted.close();
      await own.stop();
    }
  });
});

describe('first start', () => {
  test('a new database gets the demo channels once; deleting them sticks across restarts', async () => {
    const demoPort = await freePort();
    const demo = await startTestServer({ demo: true, demoPort });
    try {
      assert.equal(demo.seeded, true);
      const zato = await TestClient.connect(`ws://127.0.0.1:${demoPort}/demo`);
      await zato.createSession();
      assert.deepEqual((await zato.gateway('zato.helpers.echo', { elem1: 'value1' })).data, { elem1: 'value1' });
      zato.close();
      const plain = await TestClient.connect(`ws://127.0.0.1:${demoPort}/plain`);
      plain.send('echo me');
      assert.equal(await plain.nextText(), 'echo me');
      plain.close();
      assert.equal((await demo.api('DELETE', '/api/channels/wsx/demo.plain')).status, 200);
      await demo.close();
      const again = await startServer({ ...demo.settings, adminPort: 0 }, silentLogger());
      try {
        assert.equal(again.seeded, false);
        assert.deepEqual(
          (await again.channels.list()).map((c) => c.name),
          ['demo'],
        );
      } finally {
        await again.close();
      }
    } finally {
      await demo.stop().catch(() => undefined);
    }
  });
});
