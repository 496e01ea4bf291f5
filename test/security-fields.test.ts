// Every field issue 14 added (rate limits, compression, TLS files and verification, pub/sub patterns, jwt keys and
// claims checks), given a wrong type, an out-of-range value or a combination that could only be a mistake: each is a
// 400 naming the field, and nothing is created.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

type Body = Record<string, unknown>;
/** [field at fault, its value (or the body's other fields), the error code, what the message says]. */
type Case = [field: string, fields: Body, code: 'invalid_body' | 'invalid_input', message: RegExp];

async function expectRefused(path: string, base: Body, cases: readonly Case[]): Promise<void> {
  for (const [field, fields, code, message] of cases) {
    const body = { ...base, ...fields };
    const res = await server.api('POST', path, body);
    const where = `${JSON.stringify(fields)}: ${res.status} ${JSON.stringify(res.body)}`;
    assert.equal(res.status, 400, where);
    assert.equal(res.body.error.code, code, where);
    assert.equal(res.body.error.field, field, where);
    assert.match(res.body.error.message, message, where);
    assert.equal((await server.api('GET', `${path}/${encodeURIComponent(String(base.name))}`)).status, 404, where);
  }
}

describe('channel fields', () => {
  const base = { name: 'bad-fields', address: 'ws://127.0.0.1:1/bad', service: 'zato.ping' };
  test('rates: wrong types, zero, negative, too small or too big', async () => {
    const cases: Case[] = [];
    for (const field of ['messageRate', 'handshakeRate']) {
      cases.push(
        [field, { [field]: '5' }, 'invalid_body', /must be number/],
        [field, { [field]: true }, 'invalid_body', /must be number/],
        [field, { [field]: 0 }, 'invalid_body', /must be >= 0.001/],
        [field, { [field]: -1 }, 'invalid_body', /must be >= 0.001/],
        // Not 0, but its refill time and Retry-After would be infinite.
        [field, { [field]: 1e-320 }, 'invalid_body', /must be >= 0.001/],
        [field, { [field]: 1e7 }, 'invalid_body', /must be <= 1000000/],
      );
    }
    for (const [field, rate] of [
      ['messageBurst', 'messageRate'],
      ['handshakeBurst', 'handshakeRate'],
    ]) {
      cases.push(
        [field!, { [rate!]: 1, [field!]: '5' }, 'invalid_body', /must be integer/],
        [field!, { [rate!]: 1, [field!]: 1.5 }, 'invalid_body', /must be integer/],
        [field!, { [rate!]: 1, [field!]: 0 }, 'invalid_body', /must be >= 1/],
        [field!, { [rate!]: 1, [field!]: 1e7 }, 'invalid_body', /must be <= 1000000/],
        // A burst alone would be a silent no-op: there is no limit without a rate.
        [field!, { [field!]: 5 }, 'invalid_input', new RegExp(`${field} needs ${rate}`)],
      );
    }
    await expectRefused('/api/channels/wsx', base, cases);
  });

  test('compression, TLS files and topic patterns: wrong types and sizes', async () => {
    await expectRefused('/api/channels/wsx', base, [
      ['compression', { compression: 'true' }, 'invalid_body', /must be boolean/],
      ['compression', { compression: 1 }, 'invalid_body', /must be boolean/],
      ['compression', { compression: null }, 'invalid_body', /must be boolean/],
      ['tlsCertFile', { tlsCertFile: 5 }, 'invalid_body', /must be string/],
      ['tlsCertFile', { tlsCertFile: '' }, 'invalid_body', /fewer than 1 characters/],
      ['tlsKeyFile', { tlsKeyFile: true }, 'invalid_body', /must be string/],
      ['topicPatterns', { topicPatterns: Array(101).fill('pub=/x') }, 'invalid_body', /more than 100 items/],
      ['topicPatterns.0', { topicPatterns: [`pub=/${'x'.repeat(300)}`] }, 'invalid_body', /more than 260 characters/],
      ['topicPatterns', { topicPatterns: ['PUB=/x'] }, 'invalid_input', /pub=GLOB or sub=GLOB/],
    ]);
  });
});

describe('outgoing connection fields', () => {
  test('tlsRejectUnauthorized takes a boolean only (no "false" string turning verification off); tlsCaFile a path', async () => {
    const base = { name: 'bad-out', address: 'wss://127.0.0.1:1/x', isActive: false };
    await expectRefused('/api/outgoing/wsx', base, [
      ['tlsRejectUnauthorized', { tlsRejectUnauthorized: 'false' }, 'invalid_body', /must be boolean/],
      ['tlsRejectUnauthorized', { tlsRejectUnauthorized: 0 }, 'invalid_body', /must be boolean/],
      ['tlsRejectUnauthorized', { tlsRejectUnauthorized: null }, 'invalid_body', /must be boolean/],
      ['tlsCaFile', { tlsCaFile: 5 }, 'invalid_body', /must be string/],
      ['tlsCaFile', { tlsCaFile: '' }, 'invalid_body', /fewer than 1 characters/],
    ]);
  });
});

describe('jwt definition fields', () => {
  test('keys, claims checks and algorithms: wrong types, ranges and values', async () => {
    const base = { name: 'bad-jwt', type: 'jwt', jwksUrl: 'https://idp.example.com/jwks' };
    await expectRefused('/api/security', base, [
      ['jwksUrl', { jwksUrl: 5 }, 'invalid_body', /must be string/],
      ['jwksUrl', { jwksUrl: 'http://[::1' }, 'invalid_input', /not a URL/],
      ['jwksUrl', { jwksUrl: 'file:///etc/passwd' }, 'invalid_input', /http or https/],
      // fetch() refuses a URL with credentials, and the view would show them.
      ['jwksUrl', { jwksUrl: 'https://user:pass@idp.example.com/jwks' }, 'invalid_input', /user name or password/],
      ['jwksUrl', { jwksUrl: 'https://user@idp.example.com/jwks' }, 'invalid_input', /user name or password/],
      ['issuer', { issuer: 5 }, 'invalid_body', /must be string/],
      ['issuer', { issuer: '' }, 'invalid_body', /fewer than 1 characters/],
      ['audience', { audience: 'switchboard' }, 'invalid_body', /must be array/],
      ['audience', { audience: [] }, 'invalid_body', /fewer than 1 items/],
      ['audience.0', { audience: [5] }, 'invalid_body', /must be string/],
      ['algorithms', { algorithms: 'RS256' }, 'invalid_body', /must be array/],
      ['algorithms', { algorithms: [] }, 'invalid_body', /fewer than 1 items/],
      ['algorithms', { algorithms: ['RS256', 'RS256'] }, 'invalid_body', /duplicate items/],
      ['algorithms', { algorithms: ['none'] }, 'invalid_input', /none \(unsigned tokens\) is never accepted/],
      ['algorithms', { algorithms: ['NONE'] }, 'invalid_input', /never accepted/],
      ['algorithms', { algorithms: ['XX1'] }, 'invalid_input', /XX1 cannot be used/],
      ['clockTolerance', { clockTolerance: '30' }, 'invalid_body', /must be integer/],
      ['clockTolerance', { clockTolerance: 1.5 }, 'invalid_body', /must be integer/],
      ['clockTolerance', { clockTolerance: -1 }, 'invalid_body', /must be >= 0/],
      ['clockTolerance', { clockTolerance: null }, 'invalid_body', /must be integer/],
    ]);
    const pem = { name: 'bad-jwt', type: 'jwt' };
    await expectRefused('/api/security', pem, [
      ['publicKey', { publicKey: 5 }, 'invalid_body', /must be string/],
      ['publicKey', { publicKey: 'garbage' }, 'invalid_input', /not a PEM public key/],
      ['publicKey', { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, 'invalid_input', /not a PEM/],
      ['topicPatterns', { secret: 'x'.repeat(32), topicPatterns: ['pub='] }, 'invalid_input', /pub=GLOB or sub=GLOB/],
    ]);
  });
});
