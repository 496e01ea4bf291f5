// switchboard/client across server restarts: a real server process is killed (-9) and later stopped gracefully
// while two publishers keep publishing GD messages and a subscriber receives. The clients reconnect with backoff,
// create their sessions again and the subscriber resumes its subscription by sub_key. Every message acknowledged
// to a publisher reaches the subscriber's handler, each once; on the wire, a message
// delivered again always says so (delivery_count ≥ 2); and only a publication whose call was under way when its
// server went away may have been published twice (an at-least-once resend, with a new msg_id).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { connect, type SwitchboardClient, type WebSocketConstructor } from '../src/client/node.js';
import { ServerProcess } from './helpers/server-process.js';
import { waitFor } from './helpers/server.js';

const TOPIC = '/restart/orders';
const PER_CYCLE = 250;

let server: ServerProcess | undefined;
const clients: SwitchboardClient[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await server?.remove();
});

interface Delivery {
  readonly msgId: string;
  readonly deliveryCount: number;
}

/** A WebSocket class that records every text frame it receives (what the server sent, before the library reads it). */
function tapped(frames: string[]): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) frames.push(data.toString());
      });
    }
  } as unknown as WebSocketConstructor;
}

/** The pub/sub deliveries among raw frames, message by message. */
function wireDeliveries(frames: readonly string[]): Delivery[] {
  const out: Delivery[] = [];
  for (const text of frames) {
    const frame = JSON.parse(text) as { meta: { msg_type?: string }; data: unknown };
    if (frame.meta.msg_type !== 'zwsx.psrq') continue;
    for (const m of (Array.isArray(frame.data) ? frame.data : [frame.data]) as Array<{ msg_id: string; delivery_count: number }>)
      out.push({ msgId: m.msg_id, deliveryCount: m.delivery_count });
  }
  return out;
}

/** Deliveries of a msg_id after its first that do not say they are redeliveries. */
function unflagged(deliveries: readonly Delivery[]): Delivery[] {
  const seen = new Set<string>();
  const bad: Delivery[] = [];
  for (const d of deliveries) {
    if (seen.has(d.msgId) && d.deliveryCount < 2) bad.push(d);
    seen.add(d.msgId);
  }
  return bad;
}

const options = { reconnect: { initial: 0.1, max: 1 }, timeout: 30_000 } as const;

test('a server killed and restarted while publishers publish GD messages: the subscriber misses nothing, no unflagged duplicate', async (t) => {
  server = await ServerProcess.create();
  await server.start();
  assert.equal((await server.api('POST', '/api/pubsub/topics', { name: TOPIC, maxDepthGd: 100_000 })).status, 201);

  const wire: string[] = [];
  const handled: Array<{ msgId: string; id: string; count: number }> = [];
  let reconnects = 0;
  const subscriber = await connect(server.channelUrl, {
    ...options,
    clientId: 'restart-subscriber',
    WebSocket: tapped(wire),
    on: { reconnecting: () => reconnects++ },
  });
  clients.push(subscriber);
  await subscriber.subscribe<{ id: string }>(
    TOPIC,
    (m) => void handled.push({ msgId: m.msgId, id: m.data.id, count: m.deliveryCount }),
  );

  const acked = new Map<string, string>();
  const inFlight = new Set<string>();
  const maybeTwice = new Set<string>();
  const failures: unknown[] = [];
  let stopping = false;
  const run = { publishing: true };
  const publishers = await Promise.all(['p1', 'p2'].map((name) => connect(server!.channelUrl, { ...options, clientId: name })));
  clients.push(...publishers);
  const loops = publishers.map(async (p, n) => {
    for (let seq = 0; run.publishing; seq++) {
      const id = `p${n + 1}-${seq}`;
      inFlight.add(id);
      if (stopping) maybeTwice.add(id);
      try {
        acked.set(await p.publish(TOPIC, { id }, { hasGd: true }), id);
      } catch (err) {
        failures.push(err);
      } finally {
        inFlight.delete(id);
      }
    }
  });

  for (const [cycle, signal] of (['SIGKILL', 'SIGTERM'] as const).entries()) {
    await waitFor(() => acked.size >= PER_CYCLE * (cycle + 1), 30_000, `${PER_CYCLE} publications in cycle ${cycle + 1}`);
    stopping = true;
    for (const id of inFlight) maybeTwice.add(id);
    await server.stop(signal);
    // Down for a while: the clients' attempts fail and back off.
    await new Promise((r) => setTimeout(r, 500));
    await server.start();
    stopping = false;
  }
  await waitFor(() => acked.size >= PER_CYCLE * 3, 30_000, 'publications after the last restart');
  run.publishing = false;
  await Promise.all(loops);
  assert.deepEqual(failures, [], 'no publication failed: the calls waited for the reconnect');

  const handledNow = (): Set<string> => new Set(handled.map((h) => h.msgId));
  await waitFor(
    () => {
      const ids = handledNow();
      return [...acked.keys()].every((msgId) => ids.has(msgId));
    },
    30_000,
    'every acknowledged message',
  );
  const handledIds = handledNow();
  const lost = [...acked.keys()].filter((msgId) => !handledIds.has(msgId));
  assert.deepEqual(lost, [], 'acknowledged messages that never reached the handler');
  assert.equal(handledIds.size, handled.length, 'a message handed to the handler twice');
  assert.deepEqual(unflagged(wireDeliveries(wire)), [], 'a redelivery with delivery_count 1');

  const twice = handled.map((h) => h.id).filter((id, i, all) => all.indexOf(id) !== i);
  assert.deepEqual(
    twice.filter((id) => !maybeTwice.has(id)),
    [],
    'published twice though not under way at a stop',
  );
  // Each publisher awaits every publication, so its messages reach the handler in its order, across the restarts
  // too: an attach delivers nothing new before it has requeued what was sent and unacknowledged (delivery-task.ts).
  let inversions = 0;
  for (const name of ['p1', 'p2']) {
    const order = [...new Set(handled.map((h) => h.id).filter((id) => id.startsWith(`${name}-`)))].map((id) =>
      Number(id.split('-')[1]),
    );
    inversions += order.filter((v, i) => i > 0 && v < order[i - 1]!).length;
  }
  assert.equal(inversions, 0, 'a redelivered message overtaken by a newer one of the same publisher');
  assert.ok(reconnects >= 2, `the subscriber tried to reconnect ${reconnects} times`);
  const redelivered = wireDeliveries(wire).filter((d) => d.deliveryCount > 1).length;
  t.diagnostic(
    `${acked.size} publications acknowledged, ${handled.length} handled, ${redelivered} deliveries with delivery_count > 1 ` +
      `(handed on only if not handled before), ${twice.length} published twice by a resend, ${reconnects} reconnect attempts by the subscriber, ` +
      `${inversions} redeliveries overtaken by newer messages`,
  );
});
