import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authResponse,
  clientRequest,
  errorMessage,
  errorResponse,
  flattenClientName,
  newCid,
  newToken,
  okResponse,
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
  parseClientFrame,
  pingPayload,
  timestamp,
  toResponse,
} from '../src/protocol/index.js';

describe('protocol: server frames', () => {
  test('okResponse is exactly JSON.stringify of the frame, with and without data', () => {
    for (const data of [{ a: 1, b: ['x', null] }, 'text "quoted"', 0, null, [1, 2], undefined]) {
      const text = okResponse('id-"1"', data, 'abc123');
      const frame = JSON.parse(text);
      const expected: Record<string, unknown> = {
        meta: { id: 'abc123', timestamp: frame.meta.timestamp, msg_type: 'zwsx.rspok', status: 200, in_reply_to: 'id-"1"' },
      };
      if (data !== undefined) expected.data = data;
      assert.equal(text, JSON.stringify(expected));
    }
  });

  test('error frames carry status, error_message and a stable code', () => {
    const rsperr = JSON.parse(errorResponse('r1', { status: 404, code: 'service_not_found', message: 'nope' }, 'cid1'));
    assert.deepEqual(rsperr.data, { cid: 'cid1', code: 'service_not_found' });
    assert.equal(rsperr.meta.msg_type, 'zwsx.rsperr');
    assert.equal(rsperr.meta.in_reply_to, 'r1');
    assert.equal(rsperr.meta.code, 'service_not_found');
    const merr = JSON.parse(errorMessage({ status: 403, code: 'invalid_credentials', message: 'Invalid credentials' }));
    assert.equal(merr.meta.msg_type, 'zwsx.merr');
    assert.equal(merr.meta.status, 403);
    assert.equal(merr.data, 'Invalid credentials');
  });

  test('rspa, rqc and the ping payload', () => {
    assert.deepEqual(JSON.parse(authResponse('c1', 'zwsxt.x')).data, { token: 'zwsxt.x' });
    const rqc = JSON.parse(clientRequest('q1', { a: 1 }));
    assert.equal(rqc.meta.msg_type, 'zwsx.rqc');
    assert.equal(rqc.meta.id, 'q1');
    assert.ok(Buffer.byteLength(pingPayload(newCid())) <= 125);
  });

  test('ids and tokens are random hex of the documented length; timestamps are UTC ISO', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newCid()));
    assert.equal(ids.size, 5000);
    for (const id of [...ids].slice(0, 10)) assert.match(id, /^[0-9a-f]{24}$/);
    assert.match(newToken(), /^zwsxt\.[0-9a-f]{32}$/);
    assert.match(timestamp(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe('protocol: parsing client frames', () => {
  test('a full invoke-service frame', () => {
    const r = parseClientFrame(
      JSON.stringify({ meta: { action: 'invoke-service', id: 'i1', token: 't', timestamp: 'x' }, data: { a: 1 } }),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.message, { meta: { action: 'invoke-service', id: 'i1', token: 't', timestamp: 'x' }, data: { a: 1 } });
  });

  test('a missing action means client-response, data defaults to {}, numeric ids become strings', () => {
    const r = parseClientFrame('{"meta":{"id":7,"in_reply_to":"q"}}');
    assert.ok(r.ok);
    assert.equal(r.message.meta.action, 'client-response');
    assert.equal(r.message.meta.id, '7');
    assert.deepEqual(r.message.data, {});
  });

  test('errors: invalid JSON, no meta, no id, unknown action (with the id to reply to)', () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['{', 'invalid_json', undefined],
      ['"just a string"', 'missing_meta', undefined],
      ['{"meta":[]}', 'missing_meta', undefined],
      ['{"meta":{"action":"invoke-service"}}', 'missing_meta_id', undefined],
      ['{"meta":{"id":"","action":"invoke-service"}}', 'invalid_meta', ''],
      ['{"meta":{"id":"a1","action":"fly"}}', 'unknown_action', 'a1'],
    ];
    for (const [text, code, inReplyTo] of cases) {
      const r = parseClientFrame(text);
      assert.equal(r.ok, false, text);
      if (r.ok) continue;
      assert.equal(r.error.code, code, text);
      assert.equal(r.error.status, 400);
      assert.equal(r.error.inReplyTo, inReplyTo, text);
    }
  });

  test('client_name objects are flattened as in Zato', () => {
    assert.equal(flattenClientName({ a: 'x', b: 2 }), 'a: x; b: 2');
    assert.equal(flattenClientName('Printer #1'), 'Printer #1');
    assert.equal(flattenClientName(undefined), undefined);
  });
});

/** `depth` nested arrays around 1, as text (JSON.stringify of such a value would itself overflow). */
function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + '1' + close.repeat(depth);
}

describe('protocol: hostile client frames (issue 10 items 2 and 4)', () => {
  const HOSTILE: Array<[string, string]> = [
    ['an object whose toString is not a function', '{"toString":1}'],
    ['an object whose valueOf and toString are objects', '{"toString":{},"valueOf":{}}'],
    ['an array', '[1,2]'],
    ['an object', '{"a":1}'],
    ['true', 'true'],
    ['a deep array', nested(100_000)],
  ];
  const FIELDS = ['timestamp', 'token', 'in_reply_to', 'username', 'secret', 'client_id', 'client_name'];

  for (const field of FIELDS) {
    for (const [label, value] of HOSTILE) {
      test(`create-session with ${field} = ${label} → invalid_meta (or too_deep), never a throw`, () => {
        const text = `{"meta":{"action":"create-session","id":"c1","${field}":${value}}}`;
        const r = parseClientFrame(text);
        // client_name may legitimately be a scalar or an object of scalars (flattened as in Zato)
        if (field === 'client_name' && (value === 'true' || value === '{"a":1}' || value === '{"toString":1}')) {
          assert.ok(r.ok);
          return;
        }
        assert.equal(r.ok, false, text.slice(0, 80));
        if (r.ok) return;
        assert.ok(r.error.code === 'invalid_meta' || r.error.code === 'too_deep', r.error.code);
        assert.equal(r.error.status, 400);
        if (r.error.code === 'invalid_meta') {
          assert.equal(r.error.field, field);
          assert.equal(r.error.action, 'create-session');
          assert.equal(r.error.inReplyTo, 'c1');
        }
      });
    }
  }

  test('meta.id and meta.action of any other type are refused without a throw', () => {
    for (const [, value] of HOSTILE) {
      for (const text of [`{"meta":{"action":"invoke-service","id":${value}}}`, `{"meta":{"id":"a","action":${value}}}`]) {
        const r = parseClientFrame(text);
        assert.equal(r.ok, false, text.slice(0, 80));
        if (!r.ok) assert.match(r.error.code, /^(invalid_meta|unknown_action|too_deep)$/);
      }
    }
    for (const id of ['1e400', '-1e400', 'NaN']) {
      const r = parseClientFrame(`{"meta":{"action":"invoke-service","id":${id}}}`);
      assert.equal(r.ok, false, id);
    }
  });

  test('-0 and large numbers as ids become their text; numbers are refused as tokens', () => {
    const zero = parseClientFrame('{"meta":{"id":-0,"action":"invoke-service"}}');
    assert.ok(zero.ok);
    assert.equal(zero.message.meta.id, '0');
    const token = parseClientFrame('{"meta":{"id":"i","action":"invoke-service","token":12345}}');
    assert.equal(token.ok, false);
    if (!token.ok) assert.equal(token.error.field, 'token');
  });

  test('fields are capped: 256 characters accepted, 257 refused (secret: 4096)', () => {
    for (const field of ['id', 'token', 'in_reply_to', 'username', 'client_id', 'client_name']) {
      const ok = parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', [field]: 'x'.repeat(256) } }));
      assert.ok(ok.ok, field);
      const long = parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', [field]: 'x'.repeat(257) } }));
      assert.equal(long.ok, false, field);
      if (long.ok) continue;
      assert.equal(long.error.code, 'invalid_meta');
      // An oversized id is not echoed back as in_reply_to
      assert.equal(long.error.inReplyTo, field === 'id' ? undefined : 'c');
    }
    assert.ok(parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', secret: 's'.repeat(4096) } })).ok);
    assert.equal(
      parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', secret: 's'.repeat(4097) } })).ok,
      false,
    );
    assert.equal(
      parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', timestamp: 't'.repeat(65) } })).ok,
      false,
    );
  });

  test('a client_name object is capped after flattening and may hold scalars only', () => {
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v']));
    const r = parseClientFrame(JSON.stringify({ meta: { action: 'create-session', id: 'c', client_name: wide } }));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.field, 'client_name');
    assert.equal(parseClientFrame('{"meta":{"action":"create-session","id":"c","client_name":{"a":{"b":1}}}}').ok, false);
    assert.equal(flattenClientName({ a: { b: 1 } }), undefined);
    const scalars = parseClientFrame('{"meta":{"action":"create-session","id":"c","client_name":{"a":null,"b":true,"c":1.5}}}');
    assert.ok(scalars.ok);
    assert.equal(scalars.message.meta.client_name, 'a: null; b: true; c: 1.5');
  });

  test('prototype keys are plain data: no pollution, no effect on the fields read', () => {
    const r = parseClientFrame(
      '{"meta":{"action":"create-session","id":"c","__proto__":{"token":"zwsxt.x","client_id":"evil"},"constructor":{"prototype":{"polluted":1}},"client_name":{"__proto__":"p"}},"data":{"__proto__":{"polluted":1}}}',
    );
    assert.ok(r.ok);
    assert.equal(r.message.meta.token, undefined);
    assert.equal(r.message.meta.client_id, undefined);
    assert.equal(r.message.meta.client_name, '__proto__: p');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('nesting deeper than the limit is refused before parsing; strings with brackets do not count', () => {
    assert.equal(exceedsJsonDepth(nested(MAX_JSON_DEPTH)), false);
    assert.equal(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1)), true);
    assert.equal(exceedsJsonDepth(nested(100_000, '{"a":', '}')), true);
    assert.equal(exceedsJsonDepth(JSON.stringify({ s: '['.repeat(1000) + '\\"[' })), false);
    const deep = parseClientFrame(`{"meta":{"action":"invoke-service","id":"i"},"data":${nested(100_000)}}`);
    assert.equal(deep.ok, false);
    if (!deep.ok) assert.equal(deep.error.code, 'too_deep');
  });

  test('lone surrogates are kept as strings (and error messages stay well-formed JSON)', () => {
    const r = parseClientFrame('{"meta":{"action":"create-session","id":"\\ud800","client_name":"\\udc00x"}}');
    assert.ok(r.ok);
    const unknown = parseClientFrame('{"meta":{"id":"a","action":"\\ud800"}}');
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.doesNotThrow(() => JSON.parse(errorMessage(unknown.error)));
  });
});

describe('protocol: reading a remote reply', () => {
  test('ids and statuses of unexpected types read as absent instead of throwing', () => {
    const bomb = JSON.parse('{"toString":1}') as unknown;
    const r = toResponse({ meta: { id: bomb, in_reply_to: bomb, status: bomb, error_message: bomb, code: bomb }, data: 1 });
    assert.deepEqual(r, { id: '', status: 200, isOk: true, data: 1, inReplyTo: '' });
    assert.equal(toResponse({ meta: { id: 7, in_reply_to: 'q', status: 404 } }).id, '7');
  });
});
