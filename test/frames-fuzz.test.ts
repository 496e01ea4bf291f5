// Issue 10 item 2, property-based: arbitrary JSON values (and hostile literals: objects whose toString is not a
// function, prototype keys, lone surrogates, -0, 1e400, 100k-level nesting) in every meta field and data
// position, on zato and plain channels, against ONE server. Each frame must be answered with a well-formed frame
// (an error frame or a reply) or end in a protocol close code; afterwards the admin and a fresh client still answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
let zatoUrl: string;
let plainJsonUrl: string;
let plainGatewayUrl: string;
let plainTextUrl: string;

before(async () => {
  server = await startTestServer();
  zatoUrl = await createChannel(server, { name: 'fuzz-zato', service: 'helpers.web-sockets-gateway' });
  plainJsonUrl = await createChannel(server, {
    name: 'fuzz-plain-json',
    service: 'zato.helpers.echo',
    protocol: 'plain',
    dataFormat: 'json',
  });
  plainGatewayUrl = await createChannel(server, {
    name: 'fuzz-plain-gw',
    service: 'helpers.web-sockets-gateway',
    protocol: 'plain',
    dataFormat: 'json',
  });
  plainTextUrl = await createChannel(server, { name: 'fuzz-plain-text', service: 'zato.helpers.echo', protocol: 'plain' });
});
after(() => server.stop());

/** Close codes a hostile frame may legitimately end in (policy, too big, bad UTF-8, Zato's bad UTF-8). */
const PROTOCOL_CLOSE_CODES = new Set([1007, 1008, 1009, 4001]);
const SERVER_MSG_TYPES = new Set(['zwsx.rspa', 'zwsx.rspok', 'zwsx.rsperr', 'zwsx.merr', 'zwsx.rqc', 'zwsx.psrq']);
const META_FIELDS = [
  'id',
  'action',
  'timestamp',
  'in_reply_to',
  'token',
  'client_id',
  'client_name',
  'username',
  'secret',
  'sub_key',
  'status',
  'attrs',
  'ext_client_id',
  '__proto__',
  'constructor',
];
const ACTIONS = ['create-session', 'invoke-service', 'client-response', 'ping', 'pong', 'subscribe', ''];
const SERVICES = [
  'zato.helpers.echo',
  'zato.ping',
  'zato.pubsub.pubapi.publish-message',
  'zato.pubsub.pubapi.subscribe-wsx',
  'zato.pubsub.subscription.create-wsx-subscription',
  'zato.pubsub.pubapi.unsubscribe',
  'zato.pubsub.resume-wsx-subscription',
  'helpers.web-sockets-gateway',
  'no.such',
];

/** `depth` levels of arrays or objects around 1, as text. */
function nested(depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + '1' + ']'.repeat(depth);
}

/** JSON text of a value: arbitrary JSON, hostile objects, odd strings, and literals JSON.stringify cannot produce. */
const valueText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{"toString":1}',
      '{"toString":{},"valueOf":{}}',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[{"toString":1}]',
      '"\\ud800"',
      '"\\udc00x\\ud800"',
      '"\\u0000"',
      '-0',
      '1e400',
      '-1e400',
      '1e-400',
      '123456789012345678901234567890',
      'null',
      '""',
      JSON.stringify('x'.repeat(300)),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 100_000 }), fc.boolean()).map(([d, o]) => nested(d, o)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => JSON.stringify(s)) },
);

/** A data position: a whole `data`, or a gateway `{service, request}` with an arbitrary request or service. */
const dataText: fc.Arbitrary<string> = fc.oneof(
  valueText,
  fc.tuple(fc.constantFrom(...SERVICES), valueText).map(([s, r]) => `{"service":${JSON.stringify(s)},"request":${r}}`),
  valueText.map((s) => `{"service":${s}}`),
  fc
    .tuple(
      fc.constantFrom(...SERVICES),
      valueText,
      fc.constantFrom(
        'topic_name',
        'topic_name_list',
        'sub_key',
        'data',
        'priority',
        'expiration',
        'delivery_batch_size',
        'ack_mode',
        'has_gd',
        'correl_id',
      ),
    )
    .map(([s, v, k]) => `{"service":${JSON.stringify(s)},"request":{"topic_name":"/fuzz","${k}":${v}}}`),
);

/** A zato-protocol frame: a well-formed base with one or two fields replaced by arbitrary values. */
const zatoFrame: fc.Arbitrary<ZatoFrameSpec> = fc
  .record({
    action: fc.constantFrom(...ACTIONS.slice(0, 3)),
    overrides: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...META_FIELDS), fc.string({ maxLength: 8 })), valueText), {
      minLength: 1,
      maxLength: 2,
    }),
    data: dataText,
    useToken: fc.boolean(),
    actionOverride: fc.option(fc.constantFrom(...ACTIONS), { nil: undefined }),
  })
  .map(({ action, overrides, data, useToken, actionOverride }) => ({ action, overrides, data, useToken, actionOverride }));

/** Some frames are not text JSON at all. */
const rawFrame = fc.oneof(
  fc.string({ maxLength: 50 }).map((s) => ({ text: s })),
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ binary: Buffer.from(b) })),
  valueText.map((s) => ({ text: s })),
  valueText.map((s) => ({ text: `{"meta":${s}}` })),
);

interface ZatoFrameSpec {
  action: string;
  overrides: Array<[string, string]>;
  data: string;
  useToken: boolean;
  actionOverride: string | undefined;
}

function buildZatoText(frame: ZatoFrameSpec, token: string | undefined, n: number): string {
  const fields = new Map<string, string>([
    ['action', JSON.stringify(frame.actionOverride ?? frame.action)],
    ['id', JSON.stringify(`f${n}`)],
    ['timestamp', JSON.stringify(new Date().toISOString())],
  ]);
  if (frame.useToken && token) fields.set('token', JSON.stringify(token));
  for (const [key, value] of frame.overrides) fields.set(key, value);
  const meta = [...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',');
  return `{"meta":{${meta}},"data":${frame.data}}`;
}

/** One zato connection with a session; replaced when a frame legitimately closes it. */
class ZatoSlot {
  client!: TestClient;
  probes = 0;

  async open(): Promise<void> {
    this.client = await TestClient.connect(zatoUrl);
    const reply = await this.client.createSession({ client_id: 'fuzz' });
    assert.equal(reply.meta.msg_type, 'zwsx.rspa');
  }

  /** Sends `frame`, then a probe; checks every frame received up to the probe's reply, or the close code. */
  async check(send: (client: TestClient) => void): Promise<void> {
    const client = this.client;
    send(client);
    const id = `probe-${++this.probes}`;
    // The probe carries the token in force before the fuzzed frame; a frame that renewed it makes the probe
    // a wrong-token call, which closes with 1008: also an allowed outcome.
    client.send({ meta: { action: 'invoke-service', id, token: client.token }, data: { service: 'zato.ping' } });
    const outcome = await Promise.race([
      client.reply(id, 5000).then(
        () => 'replied' as const,
        () => 'closed' as const,
      ),
      client.closed.then(() => 'closed' as const),
    ]);
    for (const { data, isBinary } of client.received.splice(0)) {
      assert.equal(isBinary, false);
      const frame = JSON.parse(data.toString('utf8')) as { meta: { msg_type: string; code?: unknown; status?: unknown } };
      assert.ok(SERVER_MSG_TYPES.has(frame.meta.msg_type), frame.meta.msg_type);
      if (frame.meta.msg_type.endsWith('err')) {
        assert.equal(typeof frame.meta.code, 'string');
        assert.equal(typeof frame.meta.status, 'number');
        assert.notEqual(
          frame.meta.code,
          'internal_error',
          `a hostile frame made the server fail: ${data.toString().slice(0, 200)}`,
        );
      }
    }
    if (outcome === 'closed') {
      const { code } = await client.closed;
      assert.ok(PROTOCOL_CLOSE_CODES.has(code), `closed with ${code}`);
      await this.open();
    }
  }
}

async function assertServerAlive(): Promise<void> {
  assert.equal((await fetch(`${server.adminUrl}/api/health`)).status, 200);
  const fresh = await TestClient.connect(zatoUrl);
  assert.equal((await fresh.createSession()).meta.msg_type, 'zwsx.rspa');
  assert.deepEqual((await fresh.gateway('zato.helpers.echo', { still: 'alive' })).data, { still: 'alive' });
  fresh.close();
  const plain = await TestClient.connect(plainJsonUrl);
  plain.send({ still: 'alive' });
  assert.deepEqual(JSON.parse(await plain.nextText()), { still: 'alive' });
  plain.close();
}

describe('frames fuzz (fast-check): no frame crashes the server', () => {
  test('zato channel: arbitrary values in every meta field and data position', { timeout: 60_000 }, async () => {
    const slots = [new ZatoSlot(), new ZatoSlot(), new ZatoSlot()];
    for (const slot of slots) await slot.open();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: slots.length - 1 }), zatoFrame, async (slot, frame) => {
        const s = slots[slot]!;
        await s.check((client) => client.send(buildZatoText(frame, client.token, ++n)));
      }),
      { numRuns: 400, seed: 10_2026, endOnFailure: true },
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: slots.length - 1 }), rawFrame, async (slot, raw) => {
        await slots[slot]!.check((client) =>
          'binary' in raw ? client.ws.send(raw.binary, { binary: true }) : client.send(raw.text),
        );
      }),
      { numRuns: 150, seed: 10_2027, endOnFailure: true },
    );
    for (const slot of slots) slot.client.close();
    await assertServerAlive();
  });

  test(
    'zato channel: arbitrary create-session frames before a session never crash or pass for a session',
    { timeout: 60_000 },
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom(...META_FIELDS), valueText), { minLength: 1, maxLength: 3 }),
          async (overrides) => {
            const client = await TestClient.connect(zatoUrl);
            const fields = new Map<string, string>([
              ['action', '"create-session"'],
              ['id', JSON.stringify(`s${++n}`)],
            ]);
            for (const [k, v] of overrides) fields.set(k, v);
            client.send(`{"meta":{${[...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}}`);
            const outcome = await Promise.race([
              client.next(3000).then(
                (f) => f,
                () => undefined,
              ),
              client.closed.then(() => undefined),
            ]);
            if (outcome) {
              assert.ok(
                outcome.meta.msg_type === 'zwsx.rspa' ||
                  outcome.meta.msg_type === 'zwsx.merr' ||
                  outcome.meta.msg_type === 'zwsx.rsperr',
                outcome.meta.msg_type,
              );
              // Anything but a session must not reply to the create-session id (Zato clients would take it for one).
              const isCreate = fields.get('action') === '"create-session"';
              if (isCreate && outcome.meta.msg_type !== 'zwsx.rspa')
                assert.equal(outcome.meta.in_reply_to, undefined, JSON.stringify(outcome.meta));
              if (outcome.meta.msg_type === 'zwsx.merr') assert.notEqual(outcome.meta.code, 'internal_error');
            } else {
              assert.ok(PROTOCOL_CLOSE_CODES.has((await client.closed).code));
            }
            client.close();
          },
        ),
        { numRuns: 150, seed: 10_2028, endOnFailure: true },
      );
      await assertServerAlive();
    },
  );

  test('plain channels (json echo, json gateway, text echo): arbitrary frames', { timeout: 60_000 }, async () => {
    const urls = [plainJsonUrl, plainGatewayUrl, plainTextUrl];
    const clients = await Promise.all(urls.map((u) => TestClient.connect(u)));
    let probes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: clients.length - 1 }),
        fc.oneof(
          dataText.map((text) => ({ text })),
          rawFrame,
        ),
        async (i, frame) => {
          const client = clients[i]!;
          if ('binary' in frame) client.ws.send(frame.binary, { binary: true });
          else client.send(frame.text);
          // Replies leave in request order: the probe's reply comes after the fuzzed frame's (if it has one).
          const probe = `{"service":"zato.helpers.echo","request":{"probe":${++probes}}}`;
          client.send(i === 1 ? probe : `{"probe":${probes}}`);
          for (;;) {
            const next = await Promise.race([
              client.nextRaw(5000).then(
                (r) => r,
                () => undefined,
              ),
              client.closed.then(() => undefined),
            ]);
            if (!next) {
              assert.ok(PROTOCOL_CLOSE_CODES.has((await client.closed).code));
              clients[i] = await TestClient.connect(urls[i]!);
              return;
            }
            if (next.isBinary) continue;
            const text = next.data.toString('utf8');
            if (text.includes(`"probe":${probes}`)) return;
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              continue; // the text channel echoes whatever it got
            }
            const error = (parsed as { error?: { code?: unknown } } | null)?.error;
            if (error && typeof error === 'object' && 'code' in error)
              assert.notEqual(error.code, 'internal_error', text.slice(0, 200));
          }
        },
      ),
      { numRuns: 300, seed: 10_2029, endOnFailure: true },
    );
    for (const c of clients) c.close();
    await assertServerAlive();
  });
});
