// The seed documentation's three examples (websocket-usage-examples.rst), as TypeScript services.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Service, opaque, WEB_SOCKET, type WsxHookCtx } from '../src/index.js';
import { createChannel, freePort, startTestServer, waitFor, type TestServer } from './helpers/server.js';
import { PlainRemote } from './helpers/plain-remote.js';

/** "Sending messages to remote endpoints" */
class MyService extends Service {
  static override serviceName = 'examples.send';
  async handle(): Promise<void> {
    const msg = 'My message';
    const connName = 'My WSX Connection';
    await using client = await this.out.wsx.get(connName).conn.client();
    this.response.payload = { result: (await client.send(msg)) ?? null };
  }
}

/** "Invoking remote Zato services" */
class AskRemote extends Service {
  static override serviceName = 'examples.invoke';
  async handle(): Promise<void> {
    const msg = { service: 'zato.helpers.echo', request: { elem1: 'value1', elem2: 'value2' } };
    await using client = await this.out.wsx.get('My Zato WSX Connection').conn.client();
    const viaSend = await client.send(msg);
    const response = await client.invoke(msg);
    this.logger.info('Response is %j', response?.data);
    this.response.payload = { viaSend: viaSend?.data, viaInvoke: response?.data, isOk: response?.isOk, status: response?.status };
  }
}

/** "Hook services": one service for MESSAGE and CLOSE (and CONNECT). */
class OnEvent extends Service {
  static override serviceName = 'examples.hook';
  static override io = { inputOptional: [opaque('ctx')] };
  static events: Array<{ type: string; data?: unknown; code?: number; reason?: string }> = [];
  handle(): void {
    const ctx = this.request.input.ctx as WsxHookCtx;
    if (ctx.type === WEB_SOCKET.OUT_MSG_TYPE.MESSAGE) this.logger.info('Data received: %j', ctx.data);
    else if (ctx.type === WEB_SOCKET.OUT_MSG_TYPE.CLOSE) this.logger.info('Closed: %s %s', ctx.code, ctx.reason);
    OnEvent.events.push({
      type: ctx.type,
      data: ctx.data,
      ...(ctx.code === undefined ? {} : { code: ctx.code }),
      ...(ctx.reason === undefined ? {} : { reason: ctx.reason }),
    });
    this.response.payload = { handled: ctx.type };
  }
}

let server: TestServer;
let remote: PlainRemote;

before(async () => {
  server = await startTestServer();
  server.registry.replaceSource(
    'examples',
    [MyService, AskRemote, OnEvent].map((cls) => ({ name: cls.serviceName, cls })),
  );
  remote = await PlainRemote.start(await freePort());
  const zatoChannel = await createChannel(server, { name: 'zato-remote', service: 'helpers.web-sockets-gateway' });
  const hooks = { onConnectService: 'examples.hook', onMessageService: 'examples.hook', onCloseService: 'examples.hook' };
  for (const body of [
    { name: 'My WSX Connection', address: remote.url, isZato: false, ...hooks },
    { name: 'My Zato WSX Connection', address: zatoChannel, isZato: true },
  ]) {
    const res = await server.api('POST', '/api/outgoing/wsx', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  await waitFor(
    () =>
      server.outgoingManager.state('My WSX Connection').connected &&
      server.outgoingManager.state('My Zato WSX Connection').connected,
    5000,
    'connections',
  );
});
after(async () => {
  await server.stop();
  await remote.kill();
});

describe('the seed examples', () => {
  test('send to a plain remote: fire and forget', async () => {
    const res = await server.api('POST', '/api/services/examples.send/invoke', {});
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { response: { result: null } });
    await waitFor(() => remote.received.includes('My message'), 2000, 'the remote to receive');
  });

  test('invoke a remote Zato service: send and invoke both return the reply, payload in response.data', async () => {
    const res = await server.api('POST', '/api/services/examples.invoke/invoke', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const expected = { elem1: 'value1', elem2: 'value2' };
    assert.deepEqual(res.body.response, { viaSend: expected, viaInvoke: expected, isOk: true, status: 200 });
  });

  test('hooks: CONNECT on connect, MESSAGE with ctx.data, CLOSE with the code and reason from the remote', async () => {
    assert.ok(OnEvent.events.some((e) => e.type === 'connect'));
    remote.broadcast('hello from the remote');
    await waitFor(
      () => OnEvent.events.find((e) => e.type === 'message' && e.data === 'hello from the remote'),
      2000,
      'MESSAGE hook',
    );
    for (const ws of remote.sockets) ws.close(4000, 'remote says bye');
    const closed = await waitFor(() => OnEvent.events.find((e) => e.type === 'close'), 3000, 'CLOSE hook');
    assert.equal(closed.code, 4000);
    assert.equal(closed.reason, 'remote says bye');
    // Auto-reconnect brings it back.
    await waitFor(() => server.outgoingManager.state('My WSX Connection').connected, 5000, 'reconnect');
  });
});
