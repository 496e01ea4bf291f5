import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatches, TopicAccess } from '../src/security/index.js';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

describe('topic patterns', () => {
  test('* matches any run of characters, / included; everything else is literal', () => {
    assert.ok(globMatches('/orders/*', '/orders/eu'));
    assert.ok(globMatches('/orders/*', '/orders/eu/new'));
    assert.ok(globMatches('/orders/*', '/orders/'));
    assert.ok(!globMatches('/orders/*', '/orders'));
    assert.ok(!globMatches('/orders/*', '/invoices/1'));
    assert.ok(globMatches('/a/*/c', '/a/b/x/c'));
    assert.ok(!globMatches('/a.b', '/aXb'), 'a dot is not a wildcard');
    assert.ok(globMatches('*', 'anything'));
    // A hostile pattern stays linear-ish: this would take ages with naive backtracking.
    assert.ok(!globMatches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(256)));
  });

  test('every layer with patterns must allow; no patterns at all allows everything', () => {
    assert.ok(new TopicAccess([]).open);
    const channelOnly = new TopicAccess([{ source: 'channel', name: 'c', patterns: ['pub=/orders/*'] }]);
    assert.ok(channelOnly.allows('pub', '/orders/1'));
    assert.ok(!channelOnly.allows('sub', '/orders/1'), 'no sub= pattern: no subscriptions');
    const both = new TopicAccess([
      { source: 'channel', name: 'c', patterns: ['pub=/orders/*', 'sub=/orders/*'] },
      { source: 'security', name: 's', patterns: ['sub=/orders/eu/*'] },
      { source: 'security', name: 'empty', patterns: [] },
    ]);
    assert.ok(both.allows('sub', '/orders/eu/1'));
    assert.ok(!both.allows('sub', '/orders/us/1'));
    assert.ok(!both.allows('pub', '/orders/eu/1'), 'the security layer has no pub= pattern');
  });
});

describe('pub/sub permissions on a channel', () => {
  let server: TestServer;
  let openUrl: string;
  let url: string;

  before(async () => {
    server = await startTestServer();
    for (const name of ['/orders/eu', '/orders/us', '/invoices/1'])
      assert.equal((await server.api('POST', '/api/pubsub/topics', { name })).status, 201);
    const sec = await server.api('POST', '/api/security', {
      name: 'shop',
      type: 'apikey',
      secret: 'k-123456',
      topicPatterns: ['pub=/orders/*', 'sub=/orders/eu*'],
    });
    assert.equal(sec.status, 201, JSON.stringify(sec.body));
    openUrl = await createChannel(server, { name: 'open', service: 'helpers.web-sockets-gateway' }, '/open');
    url = await createChannel(
      server,
      { name: 'shop', service: 'helpers.web-sockets-gateway', security: 'shop', topicPatterns: ['pub=/orders/*', 'sub=/*'] },
      '/shop',
    );
  });
  after(() => server.stop());

  async function shopClient(clientId = 'shop-1'): Promise<TestClient> {
    const c = await TestClient.connect(url);
    await c.createSession({ secret: 'k-123456', client_id: clientId });
    return c;
  }

  test('allowed topics work; others are 403 forbidden and nothing is written', async () => {
    const c = await shopClient();
    try {
      const ok = await c.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/orders/eu', data: 1, has_gd: true });
      assert.equal(ok.meta.status, 200, JSON.stringify(ok));
      const refused = await c.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/invoices/1', data: 2, has_gd: true });
      assert.equal(refused.meta.status, 403, JSON.stringify(refused));
      assert.match(String(refused.meta.error_message), /may not publish to topic \/invoices\/1/);
      const topicPage = await server.api('GET', '/api/pubsub/topics/%2Finvoices%2F1');
      assert.equal(topicPage.status, 200, JSON.stringify(topicPage.body));
      assert.equal((topicPage.body as { depth: { gd: number } }).depth.gd, 0, JSON.stringify(topicPage.body));
      const allowedPage = await server.api('GET', '/api/pubsub/topics/%2Forders%2Feu');
      assert.equal(
        (allowedPage.body as { depth: { gd: number } }).depth.gd,
        1,
        'the allowed publish is counted where the refused one is not',
      );
      // sub: the channel allows /*, the definition only /orders/eu*: both must.
      const sub = await c.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/orders/eu' });
      assert.equal(sub.meta.status, 200, JSON.stringify(sub));
      const list = await c.gateway('zato.pubsub.subscription.create-wsx-subscription', {
        topic_name_list: ['/orders/eu', '/orders/us'],
      });
      assert.equal(list.meta.status, 403, JSON.stringify(list));
      const subs = (await server.api('GET', '/api/pubsub/subscriptions')).body as Array<{ topicName: string }>;
      assert.ok(!subs.some((s) => s.topicName === '/orders/us'), 'a refused list subscribes to none of its topics');
    } finally {
      c.close();
    }
  });

  test('a channel with no patterns anywhere keeps every topic open, and says so', async () => {
    const c = await TestClient.connect(openUrl);
    await c.createSession({});
    try {
      const ok = await c.gateway('zato.pubsub.pubapi.publish-message', { topic_name: '/invoices/1', data: 1 });
      assert.equal(ok.meta.status, 200, JSON.stringify(ok));
    } finally {
      c.close();
    }
    const channels = (await server.api('GET', '/api/channels/wsx')).body as Array<{ name: string; runtime: { topics?: string } }>;
    assert.equal(channels.find((ch) => ch.name === 'open')?.runtime.topics, 'any');
    assert.equal(channels.find((ch) => ch.name === 'shop')?.runtime.topics, 'restricted');
  });

  test('narrowing a definition live disconnects its clients, and resuming a now-forbidden subscription is refused', async () => {
    const c = await shopClient('shop-2');
    const sub = await c.gateway('zato.pubsub.pubapi.subscribe-wsx', { topic_name: '/orders/eu', unsub_on_wsx_close: false });
    assert.equal(sub.meta.status, 200, JSON.stringify(sub));
    const closed = c.closed;
    const put = await server.api('PUT', '/api/security/shop', {
      name: 'shop',
      type: 'apikey',
      topicPatterns: ['pub=/orders/*', 'sub=/invoices/*'],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await closed;
    await waitFor(async () => {
      const again = await shopClient('shop-2');
      try {
        const resumed = await again.gateway('zato.pubsub.resume-wsx-subscription', { sub_key: sub.data.sub_key });
        assert.notEqual(resumed.meta.status, 404, JSON.stringify(resumed));
        return resumed.meta.status === 403;
      } finally {
        again.close();
      }
    });
    const view = (await server.api('GET', '/api/security/shop')).body as { topicPatterns?: string[] };
    assert.deepEqual(view.topicPatterns, ['pub=/orders/*', 'sub=/invoices/*']);
  });

  test("a topic's access view lists who may publish and subscribe", async () => {
    const res = await server.api('GET', '/api/pubsub/topics/%2Forders%2Feu/access');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { topic, channels } = res.body as { topic: string; channels: Array<Record<string, unknown>> };
    assert.equal(topic, '/orders/eu');
    assert.deepEqual(
      channels.find((c) => c.channel === 'open'),
      { channel: 'open', security: null, open: true, publish: true, subscribe: true },
    );
    const shop = channels.find((c) => c.channel === 'shop');
    assert.equal(shop?.publish, true);
    assert.equal(shop?.open, false);
    const invoices = (await server.api('GET', '/api/pubsub/topics/%2Finvoices%2F1/access')).body as {
      channels: Array<Record<string, unknown>>;
    };
    assert.equal(invoices.channels.find((c) => c.channel === 'shop')?.publish, false);
    assert.equal((await server.api('GET', '/api/pubsub/topics/%2Fnope/access')).status, 404);
  });

  test('bad patterns are a 400 naming the field', async () => {
    for (const topicPatterns of [['orders'], ['pub='], ['del=/x'], ['pub= /x'], 'pub=/x', [1]]) {
      const res = await server.api('POST', '/api/channels/wsx', {
        name: 'bad',
        address: 'ws://127.0.0.1:0/bad',
        service: 'helpers.web-sockets-gateway',
        topicPatterns,
      });
      assert.equal(res.status, 400, `${JSON.stringify(topicPatterns)}: ${JSON.stringify(res.body)}`);
      assert.match(JSON.stringify(res.body), /topicPatterns/);
    }
  });
});
