// Shared pieces of the kill -9 pub/sub tests (test/pubsub-crash.test.ts on one server, test/cluster-crash.test.ts
// across servers): a subscriber that records every delivery as it arrives, publishers that keep a window of GD
// publications in flight, and the check that every redelivery says so.
import assert from 'node:assert/strict';
import { TestClient } from './wsx-client.js';

/** A delivered message as a subscriber sees it. */
export interface Seen {
  id: string;
  count: number;
}

/** Every id seen before must come again with a raised delivery_count: a redelivery is always recognisable. */
export function unflaggedRedeliveries(earlier: ReadonlySet<string>, now: readonly Seen[]): string[] {
  const bad: string[] = [];
  const before = new Set(earlier);
  for (const m of now) {
    if (before.has(m.id) && m.count < 2) bad.push(`${m.id} (delivery_count ${m.count})`);
    before.add(m.id);
  }
  return bad;
}

interface PsrqFrame {
  meta: { id: string; msg_type: string };
  data: PsrqMessage | PsrqMessage[];
}

interface PsrqMessage {
  data: { id: string };
  delivery_count: number;
}

/** A subscriber's connection: records every delivered message (`seen`), acknowledging each frame with ack_mode client. */
export interface Receiver {
  readonly subKey: string;
  readonly seen: Seen[];
  readonly client: TestClient;
  /** When the first delivery arrived (performance.now()), or undefined. */
  readonly firstAt: () => number | undefined;
  /** How its socket closed, if it did (for a failing test to say: a fenced server closes its clients with 1012). */
  readonly closed: () => { code: number; reason: string } | undefined;
}

/**
 * Connects to `url` as `clientId` and subscribes to `topic` (or resumes `subKey`), recording deliveries from then on.
 * `ack` false leaves every frame unacknowledged (the test acknowledges, or not, itself).
 */
export async function receiver(
  url: string,
  options: {
    clientId: string;
    topic?: string;
    subKey?: string;
    ackMode?: 'write' | 'client';
    ack?: boolean;
    batchSize?: number;
    unsubOnWsxClose?: boolean;
  },
): Promise<Receiver> {
  const c = await TestClient.connect(url);
  await c.createSession({ client_id: options.clientId });
  const seen: Seen[] = [];
  const ackMode = options.ackMode ?? 'client';
  let firstAt: number | undefined;
  let closed: { code: number; reason: string } | undefined;
  c.ws.once('close', (code: number, reason: Buffer) => (closed = { code, reason: reason.toString() }));
  c.ws.on('message', (raw: Buffer) => {
    const frame = JSON.parse(raw.toString()) as PsrqFrame;
    if (frame.meta.msg_type !== 'zwsx.psrq') return;
    firstAt ??= performance.now();
    for (const m of Array.isArray(frame.data) ? frame.data : [frame.data]) seen.push({ id: m.data.id, count: m.delivery_count });
    if (ackMode === 'client' && options.ack !== false) acknowledge(c, frame.meta.id);
  });
  const reply = options.subKey
    ? await c.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: options.subKey })
    : await c.gateway('zato.pubsub.pubapi.subscribe-wsx', {
        topic_name: options.topic,
        unsub_on_wsx_close: options.unsubOnWsxClose ?? false,
        ack_mode: ackMode,
        delivery_batch_size: options.batchSize ?? 200,
      });
  assert.equal(reply.meta.status, 200, JSON.stringify(reply));
  return { subKey: reply.data.sub_key as string, seen, client: c, firstAt: () => firstAt, closed: () => closed };
}

/** Acknowledges a delivery frame (ack_mode client). */
export function acknowledge(c: TestClient, frameId: string): void {
  c.send({ meta: { action: 'client-response', id: c.newId('ack'), token: c.token, in_reply_to: frameId }, data: {} });
}

/** What a publishing run did: the ids the servers acknowledged, and those issued but not answered. */
export interface PublishRun {
  readonly acked: Set<string>;
  readonly unanswered: Set<string>;
}

/**
 * Publishes GD messages `{ id }` to `topic` from one connection per URL in `urls` (several per server allowed), each
 * keeping `window` publications in flight, until `quota` were issued or `stop()` says so. A connection that fails
 * (its server killed) makes `reconnect(i)` choose where publisher `i` goes on; without it, that publisher stops.
 */
export async function publishGd(options: {
  urls: readonly string[];
  topic: string;
  prefix: string;
  quota: number;
  window: number;
  stop?: () => boolean;
  onAck?: (acked: number) => void;
  reconnect?: (publisher: number) => string | undefined;
}): Promise<PublishRun> {
  const run: PublishRun = { acked: new Set(), unanswered: new Set() };
  let issued = 0;
  const connect = async (url: string) => {
    const c = await TestClient.connect(url);
    await c.createSession();
    return c;
  };
  await Promise.all(
    options.urls.map(async (url, p) => {
      // One connection per publisher, shared by its lanes; the first lane that sees it die replaces it.
      let latest: TestClient | undefined;
      let conn: Promise<TestClient | undefined> = connect(url).then((c) => (latest = c));
      const lanes = Array.from({ length: options.window }, async () => {
        for (;;) {
          const c = await conn;
          if (!c || issued >= options.quota || options.stop?.()) return;
          const id = `${options.prefix}-${issued++}`;
          try {
            const reply = await c.gateway('zato.pubsub.pubapi.publish-message', {
              topic_name: options.topic,
              data: { id },
              has_gd: true,
            });
            assert.equal(reply.meta.status, 200, `publish ${id}: ${JSON.stringify(reply.meta)}`);
            run.acked.add(id);
            options.onAck?.(run.acked.size);
          } catch (err) {
            if (c.ws.readyState === c.ws.OPEN) throw err;
            run.unanswered.add(id);
            if (latest !== c) continue;
            latest = undefined;
            const next = options.reconnect?.(p);
            conn = next === undefined ? Promise.resolve(undefined) : connect(next).then((x) => (latest = x));
          }
        }
      });
      await Promise.all(lanes);
      (await conn)?.ws.terminate();
    }),
  );
  return run;
}
