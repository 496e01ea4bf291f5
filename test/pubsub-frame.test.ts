// The byte-assembled `zwsx.psrq` frame is exactly JSON.stringify of the same frame (issue 11 item 1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PSRQ_FRAME_OVERHEAD, PsrqEncoder, psrqMessageHead, type PsrqMessage } from '../src/protocol/index.js';

function message(data: unknown, extra: Partial<PsrqMessage> = {}): PsrqMessage {
  const dataJson = JSON.stringify(data);
  return {
    msgId: 'zpsm0000000000001234567890ab',
    topicName: '/orders/"new"',
    dataJson,
    mimeType: 'application/json',
    priority: 5,
    pubTime: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    expirationTime: Date.UTC(2026, 0, 3, 3, 4, 5, 6),
    correlId: null,
    inReplyTo: null,
    extClientId: null,
    size: Buffer.byteLength(dataJson),
    ...extra,
  };
}

// The frame as a Zato server would build it: the message fields in this order, the optional ones only when set.
function expectedItem(m: PsrqMessage, deliveryCount: number, subKey: string): Record<string, unknown> {
  const item: Record<string, unknown> = {
    data: JSON.parse(m.dataJson),
    msg_id: m.msgId,
    topic_name: m.topicName,
    priority: m.priority,
    pub_time_iso: new Date(m.pubTime).toISOString(),
    expiration_time_iso: new Date(m.expirationTime).toISOString(),
    mime_type: m.mimeType,
    size: m.size,
  };
  if (m.correlId !== null) item.correl_id = m.correlId;
  if (m.inReplyTo !== null) item.in_reply_to = m.inReplyTo;
  if (m.extClientId !== null) item.ext_client_id = m.extClientId;
  item.delivery_count = deliveryCount;
  item.sub_key = subKey;
  return item;
}

function expectedFrame(id: string, time: string, data: unknown): string {
  return JSON.stringify({ meta: { id, timestamp: time, msg_type: 'zwsx.psrq' }, data });
}

const awkward = [
  { a: 1, b: ['x', null, true] },
  'text with "quotes" and \\ backslashes',
  'unicode: zażółć gęślą jaźń, 日本語, emoji 😀, lone surrogate \ud800',
  'control chars: \u0000\u0001\b\f\n\r\t\u001f\u007f\u2028\u2029',
  0,
  null,
  [1, 2, [3, { deep: 'x' }]],
];

describe('protocol: zwsx.psrq frames', () => {
  const time = '2026-01-02T03:04:05.006';

  test('a single message frame is exactly JSON.stringify of the frame, for awkward data and fields', () => {
    const subKey = 'zpsk.wsx."odd"\\key';
    const encoder = new PsrqEncoder(subKey);
    for (const data of awkward) {
      for (const extra of [{}, { correlId: 'c"1\n', inReplyTo: 'r\u0000', extClientId: 'ü-client' }]) {
        const m = message(data, extra);
        const text = encoder.frame(m.msgId, time, [{ message: m, deliveryCount: 1 }], true).toString();
        assert.equal(text, expectedFrame(m.msgId, time, expectedItem(m, 1, subKey)));
        JSON.parse(text);
      }
    }
  });

  test('a batch frame is exactly JSON.stringify of the list, with raised delivery counts', () => {
    const subKey = 'zpsk.wsx.0123456789ab';
    const encoder = new PsrqEncoder(subKey);
    const messages = awkward.map((d, i) =>
      message(d, { msgId: `zpsm${i}`, priority: 1 + (i % 9), correlId: i % 2 ? `c${i}` : null }),
    );
    const deliveries = messages.map((m, i) => ({ message: m, deliveryCount: 1 + (i % 3) * 1000 }));
    const text = encoder.frame('zwsxc.batch', time, deliveries, false).toString();
    assert.equal(
      text,
      expectedFrame(
        'zwsxc.batch',
        time,
        deliveries.map((d) => expectedItem(d.message, d.deliveryCount, subKey)),
      ),
    );
  });

  test('countOffset raises every delivery count by the same amount', () => {
    const encoder = new PsrqEncoder('zpsk.wsx.k');
    const m = message({ x: 1 });
    const text = encoder
      .frame(
        'f0',
        time,
        [
          { message: m, deliveryCount: 0 },
          { message: m, deliveryCount: 4 },
        ],
        false,
        1,
      )
      .toString();
    assert.equal(text, expectedFrame('f0', time, [expectedItem(m, 1, 'zpsk.wsx.k'), expectedItem(m, 5, 'zpsk.wsx.k')]));
  });

  test('one message wrapped in a list (wrap_one_msg_in_list) is a one-item list', () => {
    const encoder = new PsrqEncoder('zpsk.wsx.k');
    const m = message({ x: 1 });
    const text = encoder.frame('f1', time, [{ message: m, deliveryCount: 2 }], false).toString();
    assert.equal(text, expectedFrame('f1', time, [expectedItem(m, 2, 'zpsk.wsx.k')]));
  });

  test('a message head is encoded once per message, whatever the number of subscribers', () => {
    const m = message({ shared: true });
    assert.equal(psrqMessageHead(m), psrqMessageHead(m));
    const a = new PsrqEncoder('zpsk.wsx.a').frame('x', time, [{ message: m, deliveryCount: 1 }], true);
    const b = new PsrqEncoder('zpsk.wsx.b').frame('x', time, [{ message: m, deliveryCount: 1 }], true);
    assert.notEqual(a.toString(), b.toString());
  });

  test('the size estimates bound the real frame', () => {
    const encoder = new PsrqEncoder('zpsk.wsx.0123456789ab');
    const messages = awkward.map((d) => message(d));
    const frame = encoder.frame(
      `zwsxc.${'f'.repeat(32)}`,
      new Date().toISOString(),
      messages.map((m) => ({ message: m, deliveryCount: 999_999 })),
      false,
    );
    const estimate = PSRQ_FRAME_OVERHEAD + messages.reduce((n, m) => n + encoder.messageBytes(m), 0);
    assert.ok(frame.length <= estimate, `${frame.length} <= ${estimate}`);
  });
});
