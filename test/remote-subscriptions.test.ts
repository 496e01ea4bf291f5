import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import type { WsxResponse } from '../src/protocol/index.js';
import { RemoteSubscriptions, type SubscriptionSession } from '../src/outgoing/wsx/remote-subscriptions.js';
import { RemoteDeliveries, type DeliverySession } from '../src/outgoing/wsx/remote-deliveries.js';
import type { RemoteSubKeyStore } from '../src/outgoing/wsx/remote-sub-keys.js';
import { fakeLink } from './helpers/fake-socket-link.js';

interface Call {
  service: string;
  request: Record<string, unknown>;
}

const ok = (data: unknown): WsxResponse => ({ id: 'r', status: 200, isOk: true, data, inReplyTo: 'q' });
const refused = (status: number): WsxResponse => ({
  id: 'r',
  status,
  isOk: false,
  data: null,
  inReplyTo: 'q',
  errorMessage: `status ${status}`,
});

/** A session that answers each service from `answers` and records every call. */
class FakeSession implements SubscriptionSession, DeliverySession {
  readonly calls: Call[] = [];
  readonly unanswered: Call[] = [];
  readonly acks: string[] = [];
  answers: (call: Call) => WsxResponse = () => ok(null);

  async requestOnce(data: unknown, onReply?: () => void): Promise<WsxResponse> {
    const call = data as Call;
    this.calls.push(call);
    onReply?.();
    return this.answers(call);
  }

  sendWithoutReply(_ws: WebSocket, data: unknown): void {
    this.unanswered.push(data as Call);
  }

  acknowledge(_ws: WebSocket, id: string): void {
    this.acks.push(id);
  }
}

class MemoryStore implements RemoteSubKeyStore {
  keys: Record<string, string>;
  saves = 0;
  constructor(keys: Record<string, string> = {}) {
    this.keys = keys;
  }
  async load(): Promise<Record<string, string>> {
    return { ...this.keys };
  }
  async save(keys: Record<string, string>): Promise<void> {
    this.saves++;
    this.keys = { ...keys };
  }
}

const SUBSCRIBE = 'zato.pubsub.subscription.create-wsx-subscription';
const RESUME = 'zato.pubsub.resume-wsx-subscription';
const UNSUBSCRIBE = 'zato.pubsub.pubapi.unsubscribe';

describe('RemoteSubscriptions', () => {
  test('subscribes to every topic of subscriptionList with client acks, and stores the sub_keys', async () => {
    const fake = fakeLink({ subscriptionList: ['/a', '/b'] });
    const session = new FakeSession();
    session.answers = (call) => ok({ sub_key: `zpsk.${String(call.request.topic_name)}` });
    const store = new MemoryStore();
    const subs = new RemoteSubscriptions(fake.link, session, store);
    await subs.subscribe();
    assert.deepEqual(
      session.calls.map((c) => [c.service, c.request.topic_name, c.request.ack_mode, c.request.unsub_on_wsx_close]),
      [
        [SUBSCRIBE, '/a', 'client', false],
        [SUBSCRIBE, '/b', 'client', false],
      ],
    );
    assert.deepEqual(store.keys, { '/a': 'zpsk./a', '/b': 'zpsk./b' });
    assert.deepEqual(Object.fromEntries(subs.subKeys), store.keys);
  });

  test('stored sub_keys are resumed, not recreated; a resume that fails subscribes anew', async () => {
    const fake = fakeLink({ subscriptionList: ['/a', '/b'] });
    const session = new FakeSession();
    session.answers = (call) =>
      call.service === RESUME && call.request.sub_key === 'old-b' ? refused(404) : ok({ sub_key: 'new-b' });
    const store = new MemoryStore({ '/a': 'old-a', '/b': 'old-b' });
    await new RemoteSubscriptions(fake.link, session, store).subscribe();
    assert.deepEqual(
      session.calls.map((c) => [c.service, c.request.sub_key ?? c.request.topic_name]),
      [
        [RESUME, 'old-a'],
        [RESUME, 'old-b'],
        [SUBSCRIBE, '/b'],
      ],
    );
    assert.deepEqual(store.keys, { '/a': 'old-a', '/b': 'new-b' });
  });

  test('a topic taken off the list is unsubscribed on the remote and forgotten', async () => {
    const fake = fakeLink({ subscriptionList: ['/a'] });
    const session = new FakeSession();
    const store = new MemoryStore({ '/a': 'key-a', '/gone': 'key-gone' });
    await new RemoteSubscriptions(fake.link, session, store).subscribe();
    assert.deepEqual(session.calls.at(-1), { service: UNSUBSCRIBE, request: { sub_key: 'key-gone' } });
    assert.deepEqual(store.keys, { '/a': 'key-a' });
  });

  test('a reply without a usable sub_key, or a refusal, is lastError and nothing is stored', async () => {
    const fake = fakeLink({ subscriptionList: ['/a', '/b'] });
    const session = new FakeSession();
    session.answers = (call) => (call.request.topic_name === '/a' ? ok({ sub_key: 'x'.repeat(2000) }) : refused(403));
    const store = new MemoryStore();
    await new RemoteSubscriptions(fake.link, session, store).subscribe();
    assert.deepEqual(fake.errors, [
      'Subscribing to /a failed: the reply has no usable sub_key',
      'Subscribing to /b failed: status 403',
    ]);
    assert.deepEqual(store.keys, {});
  });

  test('unsubscribeAll ends every subscription without waiting and clears the store', async () => {
    const fake = fakeLink({ subscriptionList: ['/a', '/b'] });
    const session = new FakeSession();
    session.answers = (call) => ok({ sub_key: `k${String(call.request.topic_name)}` });
    const store = new MemoryStore();
    const subs = new RemoteSubscriptions(fake.link, session, store);
    await subs.subscribe();
    subs.unsubscribeAll(fake.ws.asWs());
    assert.deepEqual(session.unanswered, [
      { service: UNSUBSCRIBE, request: { sub_key: 'k/a' } },
      { service: UNSUBSCRIBE, request: { sub_key: 'k/b' } },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(store.keys, {});
  });
});

describe('RemoteDeliveries', () => {
  const ws = fakeLink().ws.asWs();

  function deliveries(hook: (m: unknown) => Promise<unknown>) {
    const fake = fakeLink();
    const session = new FakeSession();
    return { fake, session, deliveries: new RemoteDeliveries({ ...fake.link, isCurrent: () => true }, session, hook) };
  }

  test('hands each message on once, in order, and acknowledges each frame after its messages', async () => {
    const seen: unknown[] = [];
    const { session, deliveries: d } = deliveries(async (m) => seen.push((m as { msg_id: string }).msg_id));
    const first = d.inOrder(ws, 'psrq.1', [
      { msg_id: 'm1', sub_key: 's' },
      { msg_id: 'm2', sub_key: 's' },
    ]);
    const second = d.inOrder(ws, 'psrq.2', { msg_id: 'm3', sub_key: 's' });
    // A redelivery (our ack was lost): acknowledged again, not handed on twice.
    const again = d.inOrder(ws, 'psrq.3', [
      { msg_id: 'm2', sub_key: 's' },
      { msg_id: 'm3', sub_key: 's' },
    ]);
    // Started in the order read (as the socket does); each waits for the one before it.
    await Promise.all([first(), second(), again()]);
    assert.deepEqual(seen, ['m1', 'm2', 'm3']);
    assert.deepEqual(session.acks, ['psrq.1', 'psrq.2', 'psrq.3']);
  });

  test('a mistyped msg_id is left out and counted; the frame is still acknowledged', async () => {
    const seen: unknown[] = [];
    const { fake, session, deliveries: d } = deliveries(async (m) => seen.push(m));
    await d.inOrder(ws, 'psrq.1', [{ msg_id: 7 }, { msg_id: 'ok' }])();
    assert.deepEqual(seen, [{ msg_id: 'ok' }]);
    assert.equal(fake.ignored.length, 1);
    assert.deepEqual(session.acks, ['psrq.1']);
  });

  test('a failed hook: the frame is not acknowledged, the subscription is resumed after a backoff, and frames read meanwhile wait', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let fail = true;
    const seen: string[] = [];
    const {
      fake,
      session,
      deliveries: d,
    } = deliveries(async (m) => {
      const id = (m as { msg_id: string }).msg_id;
      if (fail) throw new Error('db down');
      seen.push(id);
    });
    await d.inOrder(ws, 'psrq.1', { msg_id: 'm1', sub_key: 's' })();
    assert.deepEqual(session.acks, []);
    assert.match(fake.errors.at(-1)!, /The MESSAGE hook failed on m1; left unacknowledged for redelivery: db down/);
    // Read while waiting for the redelivery: neither handed on nor acknowledged.
    await d.inOrder(ws, 'psrq.2', { msg_id: 'm2', sub_key: 's' })();
    assert.deepEqual(session.acks, []);
    fail = false;
    t.mock.timers.tick(fake.link.config.reconnect.initial * 1000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(session.calls, [{ service: 'zato.pubsub.resume-wsx-subscription', request: { sub_key: 's' } }]);
    // The remote sends the unacknowledged messages again after its reply to the resume.
    await d.inOrder(ws, 'psrq.3', [
      { msg_id: 'm1', sub_key: 's' },
      { msg_id: 'm2', sub_key: 's' },
    ])();
    assert.deepEqual(seen, ['m1', 'm2']);
    assert.deepEqual(session.acks, ['psrq.3']);
  });
});
