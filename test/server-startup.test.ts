import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../src/server/index.js';
import { silentLogger } from '../src/observability/index.js';
import { OutgoingManager } from '../src/outgoing/wsx/index.js';
import { PubSub } from '../src/pubsub/index.js';
import { freePort, startTestServer } from './helpers/server.js';
import { TestClient, type Frame } from './helpers/wsx-client.js';

// A deployed service that reaches `this.out` (a 500 when the outgoing connections are not wired yet).
const OUT_SERVICE = `import { Service } from 'switchboard';
export class EarlyOut extends Service {
  static serviceName = 'early.out';
  handle() { this.response.payload = { name: this.out.wsx.get('early-out').config.name }; }
}
`;

/** Connects the moment the port accepts: retries every millisecond until the upgrade succeeds. */
async function connectAsSoonAsPossible(url: string, deadlineMs: number): Promise<TestClient> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await TestClient.connect(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

/** What one early client saw: the create-session outcome and the replies to its two calls. */
async function earlyCalls(url: string): Promise<Frame[]> {
  const client = await connectAsSoonAsPossible(url, 15_000);
  try {
    const session = await client.createSession({ client_id: 'early-bird' });
    const [subscribe, out] = await Promise.all([
      client.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/early' }),
      client.gateway('early.out'),
    ]);
    return [session, subscribe!, out!];
  } finally {
    client.close();
  }
}

/** A stored zato channel (gateway), topic, outgoing connection and a deployed service using `this.out`; server stopped. */
async function storedServer(path: string) {
  const url = `ws://127.0.0.1:${await freePort()}${path}`;
  const first = await startTestServer();
  await mkdir(first.settings.servicesDir, { recursive: true });
  await writeFile(join(first.settings.servicesDir, 'early-out.ts'), OUT_SERVICE);
  const created = [
    await first.api('POST', '/api/channels/wsx', {
      name: 'early',
      address: url,
      service: 'helpers.web-sockets-gateway',
      protocol: 'zato',
      gatewayServices: ['early.*'],
    }),
    await first.api('POST', '/api/pubsub/topics', { name: '/early' }),
    // Nothing listens there: the connection is stored and active, never connected, which is all `get()` needs.
    await first.api('POST', '/api/outgoing/wsx', { name: 'early-out', address: `ws://127.0.0.1:${await freePort()}/nowhere` }),
  ];
  assert.deepEqual(
    created.map((r) => r.status),
    [201, 201, 201],
    JSON.stringify(created.map((r) => r.body)),
  );
  await first.close();
  return { url, settings: { ...first.settings, adminPort: 0 }, cleanup: () => first.stop() };
}

/** Restarts the stored server while `clients` knock on its channel; resolves with what each of them saw. */
async function restartWithEarlyClients(path: string, clients: number): Promise<Frame[][]> {
  const stored = await storedServer(path);
  let restarted: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    // The clients start knocking before the server starts, so that their first way in is the earliest one.
    const early = Array.from({ length: clients }, () => earlyCalls(stored.url));
    restarted = await startServer(stored.settings, silentLogger());
    return await Promise.all(early);
  } finally {
    await restarted?.close();
    await stored.cleanup();
  }
}

function assertServed([session, subscribe, out]: Frame[]): void {
  assert.equal(session!.meta.msg_type, 'zwsx.rspa', JSON.stringify(session));
  assert.equal(subscribe!.meta.status, 200, `subscribe-wsx during start-up: ${JSON.stringify(subscribe)}`);
  assert.match(String(subscribe!.data.sub_key), /^zpsk/);
  assert.equal(out!.meta.status, 200, `this.out during start-up: ${JSON.stringify(out)}`);
  assert.deepEqual(out!.data, { name: 'early-out' });
}

test('a client connecting the moment a restarting server listens finds pub/sub and this.out wired', async () => {
  const [seen] = await restartWithEarlyClients('/early', 1);
  assertServed(seen!);
});

test('with a database slow to answer at start-up, clients racing the channels still never get service_not_found or a 500', async () => {
  // Pub/sub loading its state through a store that yields to the event loop (as PostgreSQL will): a server that
  // listened before it had registered the pub/sub services and wired `this.out` would answer in that window.
  const start = PubSub.prototype.start;
  PubSub.prototype.start = async function slowStart(this: PubSub) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return start.call(this);
  };
  try {
    for (const seen of await restartWithEarlyClients('/slow', 4)) assertServed(seen);
  } finally {
    PubSub.prototype.start = start;
  }
});

test('while the outgoing connections are still starting, this.out already finds every stored one', async () => {
  // Connecting waits until the channels listen (a connection may point at this same server); being found must not.
  const start = OutgoingManager.prototype.start;
  OutgoingManager.prototype.start = async function slowStart(this: OutgoingManager) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return start.call(this);
  };
  try {
    for (const seen of await restartWithEarlyClients('/slow-out', 2)) assertServed(seen);
  } finally {
    OutgoingManager.prototype.start = start;
  }
});
