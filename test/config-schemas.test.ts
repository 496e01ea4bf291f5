// Channel, outgoing connection and topic are each declared once: a schema carrying the defaults, from which the
// normalisers fill in a config, and which the admin API's OpenAPI document shows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TObject } from '@sinclair/typebox';
import { ChannelConfigSchema, normalizeChannel, withChannelDefaults, type ChannelConfig } from '../src/channels/wsx/index.js';
import { normalizeOutgoing, OutgoingConfigSchema } from '../src/outgoing/wsx/index.js';
import { normalizeTopic, TopicConfigSchema } from '../src/pubsub/index.js';
import { startTestServer, TEST_TOKEN } from './helpers/server.js';

function defaultsOf(schema: TObject): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema.properties).flatMap(([k, s]) => ('default' in s ? [[k, s.default]] : [])));
}

describe('config schemas', () => {
  test('a channel left at its defaults gets exactly the schema defaults, in schema order, with its arrays its own', () => {
    const origins = ['https://a.example'];
    const channel = normalizeChannel({ service: 's', address: 'ws://127.0.0.1:1/x', name: 'c', allowedOrigins: origins });
    assert.deepEqual(Object.keys(channel), Object.keys(ChannelConfigSchema.properties));
    assert.deepEqual(
      { ...channel, allowedOrigins: [] },
      { name: 'c', address: 'ws://127.0.0.1:1/x', service: 's', ...defaultsOf(ChannelConfigSchema) },
    );
    assert.notEqual(channel.allowedOrigins, origins);
    assert.equal(channel.maxConnections, 256);
    assert.equal(channel.pingInterval, 30);
  });

  test('a stored channel keeps an explicit null and gets the defaults of fields added since; unknown keys are dropped', () => {
    const stored = {
      name: 'c',
      address: 'ws://127.0.0.1:1/x',
      service: 's',
      maxConnections: null,
      obsolete: 1,
    } as unknown as ChannelConfig;
    const channel = withChannelDefaults(stored);
    assert.equal(channel.maxConnections, null);
    assert.equal(channel.maxConnectionsPerIp, 64);
    assert.equal('obsolete' in channel, false);
  });

  test('an outgoing connection: defaults, a partial reconnect filled field by field, and max below initial refused', () => {
    const out = normalizeOutgoing({ name: 'o', address: 'wss://remote.example/ws', reconnect: { initial: 2 } });
    assert.deepEqual(out.reconnect, { initial: 2, factor: 2, max: 30, resetAfter: 5 });
    assert.equal(out.maxMessageSize, 4 * 1024 * 1024);
    assert.equal(out.maxPendingRequests, 10_000);
    assert.deepEqual(out.subscriptionList, []);
    assert.throws(
      () => normalizeOutgoing({ name: 'o', address: 'ws://r/', reconnect: { initial: 5, max: 1 } }),
      /reconnect.max must not be below reconnect.initial/,
    );
    assert.throws(() => normalizeOutgoing({ name: 'o', address: 'http://r/' }), /must start with ws:\/\/ or wss:\/\//);
  });

  test('a topic: the schema defaults, and subMaxDepthGd half of maxDepthGd unless given', () => {
    const topic = normalizeTopic({ name: '/t', maxDepthGd: 9 });
    assert.deepEqual(topic, { name: '/t', ...defaultsOf(TopicConfigSchema), maxDepthGd: 9, subMaxDepthGd: 4 });
    assert.equal(normalizeTopic({ name: '/t', subMaxDepthGd: 7 }).subMaxDepthGd, 7);
    assert.equal(normalizeTopic({ name: '/t', maxDepthGd: 1 }).subMaxDepthGd, 1);
  });

  test("the admin API's OpenAPI document shows each default and description of the request bodies", async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.adminUrl}/api/openapi.json`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      const doc = (await res.json()) as {
        paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: TObject }> } }>>;
      };
      const body = (path: string) => doc.paths[path]!.post!.requestBody.content['application/json']!.schema;
      for (const [path, schema] of [
        ['/api/channels/wsx', ChannelConfigSchema],
        ['/api/outgoing/wsx', OutgoingConfigSchema],
        ['/api/pubsub/topics', TopicConfigSchema],
      ] as const) {
        const shown = body(path);
        for (const [key, value] of Object.entries(defaultsOf(schema)))
          assert.deepEqual(shown.properties[key]!.default, value, `${path} ${key}`);
        for (const key of Object.keys(schema.properties))
          assert.ok(shown.properties[key]!.description, `${path} ${key} has no description`);
      }
      const reconnect = body('/api/outgoing/wsx').properties.reconnect as unknown as TObject;
      assert.equal(reconnect.properties.initial!.default, 0.5);
    } finally {
      await server.stop();
    }
  });
});
