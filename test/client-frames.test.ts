import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_ID_PREFIX,
  CLOSE_CODE,
  clientFrameId,
  clientRequest,
  clientRequestEncoded,
  clientResponse,
  createSession,
  decodePlain,
  invokeService,
  parseServerFrame,
  sessionToken,
} from '../src/protocol/index.js';

// Values JSON escapes or drops: quotes, control characters, lone surrogates, undefined members, nested lists.
const TRICKY: unknown[] = [
  { a: 1, b: ['x', null], c: undefined },
  'text "quoted"\n\u0001',
  '\ud800',
  0,
  null,
  [1, [2, [3]]],
  true,
  undefined,
];

describe('protocol: client frames', () => {
  test('invoke-service is exactly JSON.stringify of the frame, with and without token and data', () => {
    for (const data of TRICKY) {
      for (const token of [undefined, 'zwsxt.abc', 'tok"en\\']) {
        const text = invokeService('zwsxc.inv.1"2', token, data);
        const { timestamp } = (JSON.parse(text) as { meta: { timestamp: string } }).meta;
        const expected = JSON.stringify({ meta: { action: 'invoke-service', id: 'zwsxc.inv.1"2', timestamp, token }, data });
        assert.equal(text, expected);
      }
    }
  });

  test('create-session is exactly JSON.stringify of the frame; credentials only when given', () => {
    const open = createSession('zwsxc.auth.1', { clientId: 'switchboard.out.0', clientName: 'switchboard:out' });
    const { timestamp } = (JSON.parse(open) as { meta: { timestamp: string } }).meta;
    const meta = {
      action: 'create-session',
      id: 'zwsxc.auth.1',
      timestamp,
      client_id: 'switchboard.out.0',
      client_name: 'switchboard:out',
    };
    assert.equal(open, JSON.stringify({ meta, data: {} }));
    const secured = createSession('zwsxc.auth.1', {
      clientId: 'switchboard.out.0',
      clientName: 'switchboard:out',
      credentials: { username: 'u"', secret: 's\n' },
    });
    const ts2 = (JSON.parse(secured) as { meta: { timestamp: string } }).meta.timestamp;
    assert.equal(secured, JSON.stringify({ meta: { ...meta, timestamp: ts2, username: 'u"', secret: 's\n' }, data: {} }));
  });

  test('client-response is exactly JSON.stringify of the frame; undefined answers as null; what JSON cannot hold throws', () => {
    for (const response of TRICKY) {
      const text = clientResponse('q"1', 'zwsxt.t', response, 'zwsxc.rsp.9');
      const { timestamp } = (JSON.parse(text) as { meta: { timestamp: string } }).meta;
      const meta = { action: 'client-response', id: 'zwsxc.rsp.9', timestamp, token: 'zwsxt.t', in_reply_to: 'q"1' };
      assert.equal(text, JSON.stringify({ meta, data: { response: response ?? null } }));
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => clientResponse('q1', undefined, cycle));
    assert.throws(() => clientResponse('q1', undefined, 10n));
  });

  test('client frame ids carry Zato prefixes and are unique', () => {
    const a = clientFrameId(CLIENT_ID_PREFIX.INVOKE);
    assert.match(a, /^zwsxc\.inv\.[0-9a-f]{24}$/);
    assert.notEqual(a, clientFrameId(CLIENT_ID_PREFIX.INVOKE));
    assert.match(clientFrameId(CLIENT_ID_PREFIX.SESSION), /^zwsxc\.auth\./);
    assert.match(clientFrameId(CLIENT_ID_PREFIX.RESPONSE), /^zwsxc\.rsp\./);
  });

  test('a reply is read into the WsxResponse it resolves with, and a session reply into its token', () => {
    const parsed = parseServerFrame(
      '{"meta":{"id":"r1","in_reply_to":"q1","msg_type":"zwsx.rspa","status":200},"data":{"token":"zwsxt.t"}}',
    );
    assert.ok(parsed.ok && parsed.frame.kind === 'reply');
    assert.deepEqual(parsed.frame.response, { id: 'r1', status: 200, isOk: true, data: { token: 'zwsxt.t' }, inReplyTo: 'q1' });
    assert.deepEqual(sessionToken(parsed.frame), { token: 'zwsxt.t' });
    const err = parseServerFrame('{"meta":{"in_reply_to":"q2","msg_type":"zwsx.rsperr","error_message":"no","code":"x"}}');
    assert.ok(err.ok && err.frame.kind === 'reply');
    assert.deepEqual(err.frame.response, {
      id: '',
      status: 500,
      isOk: false,
      data: undefined,
      inReplyTo: 'q2',
      errorMessage: 'no',
      code: 'x',
    });
  });

  test('zwsx.rqc, from data or from data already encoded, is exactly JSON.stringify of the frame', () => {
    for (const data of TRICKY) {
      for (const text of [clientRequest('q"1', data), clientRequestEncoded('q"1', JSON.stringify(data) as string | undefined)]) {
        const { timestamp } = (JSON.parse(text) as { meta: { timestamp: string } }).meta;
        const frame: Record<string, unknown> = { meta: { id: 'q"1', timestamp, msg_type: 'zwsx.rqc' } };
        if (data !== undefined) frame.data = data;
        assert.equal(text, JSON.stringify(frame));
      }
    }
  });

  test('the slow-consumer close code is in CLOSE_CODE', () => {
    assert.equal(CLOSE_CODE.SLOW_CONSUMER, 4010);
  });
});

describe('protocol: plain messages', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  test('text format: a text frame is its string, a binary frame its bytes (the same object)', () => {
    assert.deepEqual(decodePlain(bytes('héllo'), false, 'text'), { ok: true, value: 'héllo' });
    const bin = Buffer.from([0xff, 0x00]);
    const decoded = decodePlain(bin, true, 'text');
    assert.ok(decoded.ok);
    assert.equal(decoded.value, bin);
  });

  test('json format: parsed from text and binary frames; bad JSON, too deep and invalid UTF-8 say why and keep the text', () => {
    assert.deepEqual(decodePlain(bytes('{"a":[1]}'), false, 'json'), { ok: true, value: { a: [1] } });
    assert.deepEqual(decodePlain(bytes('[2]'), true, 'json'), { ok: true, value: [2] });
    const bad = decodePlain(bytes('{nope'), false, 'json');
    assert.ok(!bad.ok && bad.code === 'invalid_json' && bad.text === '{nope');
    const deep = decodePlain(bytes('['.repeat(200) + ']'.repeat(200)), false, 'json');
    assert.ok(!deep.ok && deep.code === 'too_deep');
    const utf8 = decodePlain(new Uint8Array([0x7b, 0xff]), true, 'json');
    assert.ok(!utf8.ok && utf8.code === 'invalid_utf8' && utf8.message === 'Invalid UTF-8 bytes');
  });
});
