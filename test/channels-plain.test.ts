import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, type TestServer } from './helpers/server.js';
import { deployTestServices } from './helpers/services.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
  deployTestServices(server);
});
after(() => server.stop());

describe('plain channel', () => {
  test('text in, text out; binary in, binary out', async () => {
    const url = await createChannel(server, { name: 'echo-text', service: 'zato.helpers.echo', protocol: 'plain' });
    const client = await TestClient.connect(url);
    client.send('hello');
    assert.equal(await client.nextText(), 'hello');
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const bin = await client.nextRaw();
    assert.equal(bin.isBinary, true);
    assert.deepEqual([...bin.data], [1, 2, 3]);
    client.close();
  });

  test('dataFormat json: the service gets parsed JSON and its object is sent back as JSON', async () => {
    const url = await createChannel(server, { name: 'add-json', service: 'test.add', protocol: 'plain', dataFormat: 'json' });
    const client = await TestClient.connect(url);
    client.send({ a: 1, b: 2 });
    assert.deepEqual(JSON.parse(await client.nextText()), { sum: 3 });
    client.close();
  });

  test('bad input gets a JSON error frame and the connection stays open', async () => {
    const url = await createChannel(server, { name: 'add-json-2', service: 'test.add', protocol: 'plain', dataFormat: 'json' });
    const client = await TestClient.connect(url);
    client.send('{oops');
    assert.equal(JSON.parse(await client.nextText()).error.code, 'invalid_json');
    client.send({ a: 1 });
    const invalid = JSON.parse(await client.nextText()).error;
    assert.equal(invalid.code, 'invalid_input');
    assert.equal(invalid.status, 400);
    client.send({ a: 1, b: 1 });
    assert.deepEqual(JSON.parse(await client.nextText()), { sum: 2 });
    client.close();
  });

  test('error frames carry the status of their code: invalid UTF-8 is 422, invoking a plain client 409 (issue 11)', async () => {
    const url = await createChannel(server, { name: 'statuses', service: 'test.add', protocol: 'plain', dataFormat: 'json' });
    const client = await TestClient.connect(url);
    client.ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: true });
    const invalid = JSON.parse(await client.nextText()).error;
    assert.deepEqual([invalid.code, invalid.status], ['invalid_utf8', 422]);
    const handle = server.channelManager.channel('statuses');
    await assert.rejects(handle.invoke(handle.clients()[0]!.pubClientId, {}), { code: 'not_supported', status: 409 });
    client.close();
  });

  test('a service that throws → an internal_error frame; unknown service → service_not_found', async () => {
    const boomUrl = await createChannel(server, { name: 'boom', service: 'test.boom', protocol: 'plain' });
    const boom = await TestClient.connect(boomUrl);
    boom.send('x');
    const err = JSON.parse(await boom.nextText()).error;
    assert.equal(err.code, 'internal_error');
    assert.equal(err.message, 'Internal server error');
    const ghostUrl = await createChannel(server, { name: 'ghost', service: 'no.such', protocol: 'plain' });
    const ghost = await TestClient.connect(ghostUrl);
    ghost.send('x');
    assert.equal(JSON.parse(await ghost.nextText()).error.code, 'service_not_found');
    boom.close();
    ghost.close();
  });

  test('replies leave in request order even when services finish out of order', async () => {
    const url = await createChannel(server, { name: 'slow', service: 'test.slow', protocol: 'plain', dataFormat: 'json' });
    const client = await TestClient.connect(url);
    client.send({ ms: 150, value: 1 });
    client.send({ ms: 0, value: 2 });
    client.send({ ms: 50, value: 3 });
    assert.deepEqual([await client.nextText(), await client.nextText(), await client.nextText()], ['1', '2', '3']);
    client.close();
  });

  test('a service that returns nothing sends nothing', async () => {
    const url = await createChannel(server, { name: 'silent', service: 'test.silent', protocol: 'plain' });
    const client = await TestClient.connect(url);
    client.send('a');
    await assert.rejects(client.nextText(200), /Timed out/);
    client.close();
  });

  test('a frame over maxMessageSize closes with 1009', async () => {
    const url = await createChannel(server, {
      name: 'tiny',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      maxMessageSize: 100,
    });
    const client = await TestClient.connect(url);
    client.send('y'.repeat(101));
    assert.equal((await client.closed).code, 1009);
  });

  test('server push: send and broadcast reach plain clients as is', async () => {
    const url = await createChannel(server, { name: 'push', service: 'test.silent', protocol: 'plain' });
    const client = await TestClient.connect(url);
    const handle = server.channelManager.channel('push');
    await handle.broadcast({ n: 1 });
    assert.deepEqual(JSON.parse(await client.nextText()), { n: 1 });
    await handle.send(handle.clients()[0]!.pubClientId, 'raw text');
    assert.equal(await client.nextText(), 'raw text');
    await assert.rejects(handle.invoke(handle.clients()[0]!.pubClientId, {}), { code: 'not_supported' });
    client.close();
  });
});
