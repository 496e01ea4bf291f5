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
  parseClientFrame,
  pingPayload,
  timestamp,
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
    const r = parseClientFrame(JSON.stringify({ meta: { action: 'invoke-service', id: 'i1', token: 't', timestamp: 'x' }, data: { a: 1 } }));
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
