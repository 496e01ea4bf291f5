import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerFrame, type RemoteBadReply, type RemoteReply } from '../src/protocol/index.js';
import { ZatoSession, type RemoteCredentials } from '../src/outgoing/wsx/zato-session.js';
import { fakeLink, type FakeLink } from './helpers/fake-socket-link.js';

function frame(text: string): RemoteReply | RemoteBadReply {
  const parsed = parseServerFrame(text);
  assert.ok(parsed.ok && (parsed.frame.kind === 'reply' || parsed.frame.kind === 'bad-reply'), 'the test frame is a reply');
  return parsed.frame;
}

function rspa(inReplyTo: string, token: string): RemoteReply | RemoteBadReply {
  return frame(
    JSON.stringify({ meta: { id: 'r', in_reply_to: inReplyTo, msg_type: 'zwsx.rspa', status: 200 }, data: { token } }),
  );
}

function reply(inReplyTo: string, data: unknown, meta: Record<string, unknown> = {}): RemoteReply | RemoteBadReply {
  return frame(JSON.stringify({ meta: { id: 'r', in_reply_to: inReplyTo, msg_type: 'zwsx.rspok', status: 200, ...meta }, data }));
}

const lastSent = (fake: FakeLink) => fake.ws.frames().at(-1)!;
const tick = () => new Promise((resolve) => setImmediate(resolve));

function session(fake: FakeLink, credentials?: RemoteCredentials): ZatoSession {
  return new ZatoSession(fake.link, async () => credentials);
}

/** Creates a session with token `tok` (answers the create-session frame). */
async function withToken(fake: FakeLink, s: ZatoSession, token = 'zwsxt.one'): Promise<void> {
  const created = s.create();
  await tick();
  s.onReply(rspa(lastSent(fake).meta.id as string, token));
  assert.equal(await created, true);
}

describe('ZatoSession', () => {
  test('create-session names the connection and socket, carries the credentials, and keeps the token of zwsx.rspa', async () => {
    const fake = fakeLink({ name: 'crm' }, 2);
    const s = session(fake, { username: 'u', secret: 's' });
    await withToken(fake, s, 'zwsxt.abc');
    const sent = fake.ws.frames()[0]!;
    assert.equal(sent.meta.action, 'create-session');
    assert.match(sent.meta.id as string, /^zwsxc\.auth\./);
    assert.equal(sent.meta.client_id, 'switchboard.crm.2');
    assert.equal(sent.meta.client_name, 'switchboard:crm');
    assert.equal(sent.meta.username, 'u');
    assert.equal(sent.meta.secret, 's');
    assert.equal(s.token, 'zwsxt.abc');
    const pending = s.requestOnce({ service: 'x' });
    assert.equal(lastSent(fake).meta.token, 'zwsxt.abc');
    assert.equal(lastSent(fake).meta.action, 'invoke-service');
    s.end(new Error('closed'));
    await assert.rejects(pending, /closed/);
  });

  test('requests that ask for a session at once share one create-session', async () => {
    const fake = fakeLink();
    const s = session(fake);
    const a = s.create();
    const b = s.create();
    await tick();
    assert.equal(fake.ws.sent.length, 1);
    s.onReply(rspa(lastSent(fake).meta.id as string, 'zwsxt.t'));
    assert.deepEqual(await Promise.all([a, b]), [true, true]);
  });

  test('a refused session (zwsx.merr, or a reply that is not zwsx.rspa) is false with the reason as lastError', async () => {
    const fake = fakeLink();
    const s = session(fake);
    const refused = s.create();
    await tick();
    s.onErrorMessage('Remote error: Forbidden');
    assert.equal(await refused, false);
    assert.deepEqual(fake.errors, ['Remote error: Forbidden', 'Remote error: Forbidden']);
    const wrong = s.create();
    await tick();
    s.onReply(reply(lastSent(fake).meta.id as string, {}, { msg_type: 'zwsx.rsperr', status: 403, error_message: 'nope' }));
    assert.equal(await wrong, false);
    assert.equal(fake.errors.at(-1), 'Session refused by the remote: nope');
    assert.equal(s.token, undefined);
  });

  test('an unanswered create-session is false after connectTimeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fake = fakeLink({ connectTimeout: 3 });
    const s = session(fake);
    const created = s.create();
    await tick();
    t.mock.timers.tick(3000);
    assert.equal(await created, false);
    assert.equal(fake.errors.at(-1), 'No session reply within 3 s');
  });

  test('unreadable credentials: no create-session, false, and why', async () => {
    const fake = fakeLink();
    const s = new ZatoSession(fake.link, async () => {
      throw new Error('vault down');
    });
    assert.equal(await s.create(), false);
    assert.equal(fake.ws.sent.length, 0);
    assert.equal(fake.errors.at(-1), 'Cannot read credentials: vault down');
  });

  test('a reply resolves its request by in_reply_to; a malformed one rejects it with invalid_reply and is counted', async () => {
    const fake = fakeLink();
    const s = session(fake);
    await withToken(fake, s);
    const ok = s.requestOnce({ n: 1 });
    const id = lastSent(fake).meta.id as string;
    s.onReply(reply(id, { answer: 42 }));
    const response = await ok;
    assert.equal(response.isOk, true);
    assert.deepEqual(response.data, { answer: 42 });
    assert.equal(response.inReplyTo, id);
    const bad = s.requestOnce({ n: 2 });
    s.onReply(frame(JSON.stringify({ meta: { in_reply_to: lastSent(fake).meta.id, status: 'two hundred' } })));
    await assert.rejects(bad, (err: { code?: string }) => err.code === 'invalid_reply');
    assert.equal(fake.ignored.length, 1);
    // A reply to nothing pending is dropped quietly.
    s.onReply(reply('zwsxc.inv.unknown', null));
    assert.equal(s.pendingCount, 0);
  });

  test('requests over maxPendingRequests are refused with too_many_pending; unanswered ones time out with response_timeout', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const fake = fakeLink({ maxPendingRequests: 2, responseTimeout: 1 });
    const s = session(fake);
    const a = s.requestOnce(1);
    const b = s.requestOnce(2);
    await assert.rejects(
      s.requestOnce(3),
      (err: { code?: string; status?: number }) => err.code === 'too_many_pending' && err.status === 503,
    );
    assert.equal(fake.ws.sent.length, 2);
    assert.equal(fake.stats.messagesOut, 2);
    t.mock.timers.tick(1000);
    await assert.rejects(a, (err: { code?: string }) => err.code === 'response_timeout');
    await assert.rejects(b, (err: { code?: string }) => err.code === 'response_timeout');
    assert.equal(s.pendingCount, 0);
  });

  test('token_expired: a new session, then the request once more, transparently', async () => {
    const fake = fakeLink();
    const s = session(fake);
    await withToken(fake, s, 'zwsxt.old');
    const result = s.request({ service: 'x' });
    s.onReply(reply(lastSent(fake).meta.id as string, null, { msg_type: 'zwsx.rsperr', status: 401, code: 'token_expired' }));
    await tick();
    assert.equal(lastSent(fake).meta.action, 'create-session');
    s.onReply(rspa(lastSent(fake).meta.id as string, 'zwsxt.new'));
    await tick();
    const retry = lastSent(fake);
    assert.equal(retry.meta.action, 'invoke-service');
    assert.equal(retry.meta.token, 'zwsxt.new');
    s.onReply(reply(retry.meta.id as string, 'done'));
    assert.equal((await result).data, 'done');
  });

  test('a bad token and no new session: the bad-token reply is the answer unless the socket reconnects', async () => {
    const fake = fakeLink();
    const s = session(fake);
    await withToken(fake, s);
    const result = s.request({ service: 'x' });
    s.onReply(reply(lastSent(fake).meta.id as string, null, { msg_type: 'zwsx.rsperr', status: 401, code: 'invalid_token' }));
    await tick();
    s.onErrorMessage('Remote error: closing');
    const response = await result;
    assert.equal(response.status, 401);
    assert.equal(response.code, 'invalid_token');
  });

  test("answers a server request with the hook's value; null when the hook fails or returns what JSON cannot hold", async () => {
    const fake = fakeLink();
    const s = session(fake);
    await withToken(fake, s, 'zwsxt.t');
    await s.answer(fake.ws.asWs(), 'rqc.1', async () => ({ pong: true }));
    const answer = lastSent(fake);
    assert.equal(answer.meta.action, 'client-response');
    assert.equal(answer.meta.in_reply_to, 'rqc.1');
    assert.equal(answer.meta.token, 'zwsxt.t');
    assert.deepEqual(answer.data, { response: { pong: true } });
    await s.answer(fake.ws.asWs(), 'rqc.2', async () => {
      throw new Error('hook failed');
    });
    assert.deepEqual(lastSent(fake).data, { response: null });
    await s.answer(fake.ws.asWs(), 'rqc.3', async () => 10n);
    assert.deepEqual(lastSent(fake).data, { response: null });
    assert.equal(lastSent(fake).meta.in_reply_to, 'rqc.3');
    // A socket that closed meanwhile is not answered on.
    const sentBefore = fake.ws.sent.length;
    fake.ws.readyState = 3;
    await s.answer(fake.ws.asWs(), 'rqc.4', async () => 1);
    assert.equal(fake.ws.sent.length, sentBefore);
  });

  test('end(): every waiting request fails with the given error and the token is gone', async () => {
    const fake = fakeLink();
    const s = session(fake);
    await withToken(fake, s);
    const a = s.requestOnce(1);
    const b = s.requestOnce(2);
    const closed = new Error('closed (1006)');
    s.end(closed);
    await assert.rejects(a, (err) => err === closed);
    await assert.rejects(b, (err) => err === closed);
    assert.equal(s.token, undefined);
    assert.equal(s.pendingCount, 0);
  });
});
