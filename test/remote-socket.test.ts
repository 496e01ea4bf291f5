import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { RemoteSocket, OUTGOING_PINGS_MISSED_THRESHOLD, type SocketEvents } from '../src/outgoing/wsx/remote-socket.js';
import type { SocketState, SocketStats } from '../src/outgoing/wsx/socket-link.js';
import { normalizeOutgoing, type OutgoingInput } from '../src/outgoing/wsx/config.js';
import { silentLogger } from '../src/observability/logger.js';

/** An in-process remote: records what it receives; `onMessage` may answer. */
class Remote {
  readonly wss: WebSocketServer;
  readonly received: string[] = [];
  readonly sockets = new Set<WebSocket>();
  onMessage: (ws: WebSocket, text: string) => void = () => undefined;

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on('connection', (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('message', (data) => {
        const text = data.toString();
        this.received.push(text);
        this.onMessage(ws, text);
      });
    });
  }

  static async start(options: { autoPong?: boolean } = {}): Promise<Remote> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: options.autoPong ?? true });
    await new Promise((resolve) => wss.once('listening', resolve));
    return new Remote(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/remote`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
  }
}

interface Probe {
  socket: RemoteSocket;
  messages: unknown[];
  closed: number[];
  stats: SocketStats;
}

function open(config: Partial<OutgoingInput> & { address: string }, index = 0): Probe {
  const stats: SocketStats = { messagesIn: 0, messagesOut: 0, reconnects: 0, badFrames: 0 };
  const probe = { messages: [] as unknown[], closed: [] as number[], stats } as Probe;
  const events: SocketEvents = {
    connected: () => undefined,
    message: async (_s, data) => void probe.messages.push(data),
    closed: (_s, code) => void probe.closed.push(code),
  };
  probe.socket = new RemoteSocket({
    index,
    config: normalizeOutgoing({ name: 'out', reconnect: { initial: 0.01, max: 0.05 }, ...config }),
    stats,
    events,
    credentials: async () => undefined,
    logger: silentLogger(),
  });
  probe.socket.start();
  return probe;
}

function until(socket: RemoteSocket, state: SocketState, timeoutMs = 3000): Promise<void> {
  if (socket.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still ${socket.state}, not ${state}`)), timeoutMs);
    const onState = (s: SocketState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      socket.off('state', onState);
      resolve();
    };
    socket.on('state', onState);
  });
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('RemoteSocket (plain remote)', async () => {
  const remote = await Remote.start();
  after(() => remote.close());

  test('connects, writes, hands messages on decoded, and a deliberate stop does not reconnect', async () => {
    const p = open({ address: remote.url, dataFormat: 'json' });
    await until(p.socket, 'connected');
    assert.ok(p.socket.connectedSince);
    await p.socket.write({ hello: 1 });
    await p.socket.write('as is');
    await eventually(() => remote.received.length === 2);
    assert.deepEqual(remote.received, ['{"hello":1}', 'as is']);
    for (const ws of remote.sockets) {
      ws.send('{"n":1}');
      ws.send('not json');
    }
    await eventually(() => p.messages.length === 2);
    assert.deepEqual(p.messages, [{ n: 1 }, 'not json']);
    assert.equal(p.stats.messagesIn, 2);
    assert.equal(p.stats.messagesOut, 2);
    p.socket.stop();
    assert.equal(p.socket.state, 'stopped');
    await assert.rejects(p.socket.write('late'), (err: { code?: string }) => err.code === 'not_connected');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(p.socket.state, 'stopped');
    assert.equal(p.socket.reconnects, 0);
    assert.deepEqual(p.closed, [], 'a deliberate stop calls no close hook');
  });

  test('a dropped connection: the close hook, then a reconnect with backoff, counted', async () => {
    const p = open({ address: remote.url });
    await until(p.socket, 'connected');
    for (const ws of remote.sockets) ws.close(4999, 'bye');
    await until(p.socket, 'reconnecting');
    assert.equal(p.socket.lastError, 'Closed by the remote: 4999 bye');
    await until(p.socket, 'connected');
    assert.deepEqual(p.closed, [4999]);
    assert.equal(p.socket.reconnects, 1);
    assert.equal(p.stats.reconnects, 1);
    p.socket.stop();
  });

  test('without hasAutoReconnect, a drop is the end', async () => {
    const p = open({ address: remote.url, hasAutoReconnect: false });
    await until(p.socket, 'connected');
    for (const ws of remote.sockets) ws.terminate();
    await until(p.socket, 'stopped');
    assert.equal(p.socket.reconnects, 0);
  });

  test('a Zato request on a plain socket is refused as not connected', async () => {
    const p = open({ address: remote.url });
    await until(p.socket, 'connected');
    await assert.rejects(p.socket.request({}), (err: { code?: string }) => err.code === 'not_connected');
    p.socket.stop();
  });
});

describe('RemoteSocket heartbeat', () => {
  test(`a remote that stops answering pings is dropped after ${OUTGOING_PINGS_MISSED_THRESHOLD} missed pong(s) and reconnected`, async () => {
    const silent = await Remote.start({ autoPong: false });
    try {
      const p = open({ address: silent.url, pingInterval: 0.1 });
      await until(p.socket, 'connected');
      await until(p.socket, 'reconnecting', 2000);
      assert.equal(p.socket.lastError, 'The remote stopped answering pings');
      p.socket.stop();
    } finally {
      await silent.close();
    }
  });

  test('a remote that answers pings stays connected', async () => {
    const remote = await Remote.start();
    try {
      const p = open({ address: remote.url, pingInterval: 0.05 });
      await until(p.socket, 'connected');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(p.socket.state, 'connected');
      assert.equal(p.socket.reconnects, 0);
      p.socket.stop();
    } finally {
      await remote.close();
    }
  });
});

describe('RemoteSocket (Zato remote)', async () => {
  const remote = await Remote.start();
  after(() => remote.close());
  // Answers create-session with a token and every invoke-service with a sub_key.
  remote.onMessage = (ws, text) => {
    const { meta } = JSON.parse(text) as { meta: { action: string; id: string } };
    const reply = (msgType: string, data: unknown): void =>
      ws.send(JSON.stringify({ meta: { id: 'r', in_reply_to: meta.id, msg_type: msgType, status: 200 }, data }));
    if (meta.action === 'create-session') reply('zwsx.rspa', { token: 'zwsxt.t' });
    else if (meta.action === 'invoke-service') reply('zwsx.rspok', { sub_key: 'zpsk.1' });
  };
  const services = (): unknown[] =>
    remote.received
      .map((t) => JSON.parse(t) as { data?: { service?: string } })
      .flatMap((f) => (f.data?.service ? [f.data.service] : []));

  test('only the first socket of a pool subscribes to subscriptionList (chosen when it is made)', async () => {
    const second = open({ address: remote.url, isZato: true, subscriptionList: ['/t'] }, 1);
    await until(second.socket, 'connected');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(services(), []);
    const first = open({ address: remote.url, isZato: true, subscriptionList: ['/t'] }, 0);
    await until(first.socket, 'connected');
    await eventually(() => services().length === 1);
    assert.deepEqual(services(), ['zato.pubsub.subscription.create-wsx-subscription']);
    const reply = await first.socket.request({ service: 'echo' });
    assert.equal(reply.isOk, true);
    assert.equal(first.socket.pendingCount, 0);
    first.socket.stop();
    second.socket.stop();
    // Deleting the connection ends the remote subscription too.
    await eventually(() => services().includes('zato.pubsub.pubapi.unsubscribe'));
  });

  test('a binary or unreadable frame is ignored and counted, and the socket stays up', async () => {
    const p = open({ address: remote.url, isZato: true });
    await until(p.socket, 'connected');
    for (const ws of remote.sockets) {
      ws.send(Buffer.from('{}'), { binary: true });
      ws.send('not json');
    }
    await eventually(() => p.stats.badFrames === 2);
    assert.equal(p.socket.state, 'connected');
    p.socket.stop();
  });
});
