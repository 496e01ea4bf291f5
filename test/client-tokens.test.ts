// switchboard/client with JWTs: a token provider keeps a long-lived client connected past each token's exp (the
// session refreshed by create-session on the same connection), refresh(token) does the same by hand, a token that
// expires with nothing to replace it ends the client (close 4004, no reconnect loop), and a provider that fails
// once is asked again on the reconnect that follows the 4004.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { AuthError, connect, type StateEvents, type SwitchboardClient } from '../src/client/node.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './helpers/server.js';

const SECRET = 'a-test-hmac-secret-of-at-least-32-bytes!';
let server: TestServer;
let url: string;
const clients: SwitchboardClient[] = [];

before(async () => {
  server = await startTestServer();
  const res = await server.api('POST', '/api/security', { name: 'jwt', type: 'jwt', secret: SECRET, clockTolerance: 0 });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  url = await createChannel(server, { name: 'jwt-gw', service: 'helpers.web-sockets-gateway', security: 'jwt' });
});
after(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

/**
 * A JWT for `sub` that expires in `seconds` to `seconds` + 1 (exp is whole seconds: rounded down, a 1 s token signed at
 * x.999 s was already expired when the server read it, with clockTolerance 0 — a refused create-session in one run).
 */
function token(seconds: number, sub = 'alice'): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(Math.ceil(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(SECRET));
}

function names(events: Array<{ name: string }>): string[] {
  return events.map((e) => e.name);
}

function record(): { events: Array<{ name: keyof StateEvents; event: unknown }>; on: Record<string, (e: unknown) => void> } {
  const events: Array<{ name: keyof StateEvents; event: unknown }> = [];
  const on = Object.fromEntries(
    (['connecting', 'open', 'reconnecting', 'closed'] as const).map((name) => [
      name,
      (event: unknown) => events.push({ name, event }),
    ]),
  );
  return { events, on };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JWT expiry and refresh', () => {
  test('a token provider refreshes the session before each exp: one connection, past several tokens', async () => {
    let issued = 0;
    const { events, on } = record();
    const c = await connect(url, {
      token: () => {
        issued++;
        return token(2);
      },
      on,
    });
    clients.push(c);
    // Three token lifetimes: every token has expired at least once meanwhile.
    await sleep(5000);
    assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
    assert.ok(issued >= 3, `${issued} tokens issued`);
    assert.deepEqual(names(events), ['connecting', 'open'], 'never reconnected');
  });

  test('refresh(token) by hand keeps a session opened with a static token past its exp', async () => {
    const { events, on } = record();
    const c = await connect(url, { token: await token(2), on });
    clients.push(c);
    await sleep(500);
    await c.refresh(await token(60));
    await sleep(2500);
    assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
    assert.deepEqual(names(events), ['connecting', 'open']);
  });

  test('a static token that expires ends the client with token_expired (close 4004), no reconnect', async () => {
    const { events, on } = record();
    const c = await connect(url, { token: await token(1), on, reconnect: { initial: 0.01, max: 0.01 } });
    clients.push(c);
    await waitFor(() => c.state === 'closed', 5000, 'the close after exp');
    const closed = events.at(-1)!.event as StateEvents['closed'];
    assert.equal(closed.code, 4004);
    assert.ok(closed.error instanceof AuthError && closed.error.code === 'token_expired', String(closed.error));
    await sleep(100);
    assert.deepEqual(names(events), ['connecting', 'open', 'closed']);
  });

  test('a refresh with a token of another identity is refused: the client closes with invalid_credentials', async () => {
    const { events, on } = record();
    const c = await connect(url, { token: await token(60), on });
    clients.push(c);
    const refused = await c.refresh(await token(60, 'mallory')).catch((e: unknown) => e);
    assert.ok(refused instanceof AuthError && refused.code === 'invalid_credentials', String(refused));
    await waitFor(() => c.state === 'closed', 3000, 'the close');
    assert.deepEqual(names(events), ['connecting', 'open', 'closed']);
  });

  test('a provider that fails to refresh: the session ends with 4004 and the reconnect asks it again', async () => {
    let calls = 0;
    let down = true;
    const { events, on } = record();
    const errors: Error[] = [];
    const c = await connect(url, {
      token: () => {
        calls++;
        if (calls === 1) return token(2);
        if (down) throw new Error('identity provider down');
        return token(60);
      },
      on: {
        ...on,
        error: (e: Error) => errors.push(e),
        reconnecting: (e) => {
          down = false;
          on.reconnecting!(e);
        },
      },
      reconnect: { initial: 0.01, max: 0.05 },
    });
    clients.push(c);
    await waitFor(() => events.filter((e) => e.name === 'open').length === 2, 6000, 'the reconnect');
    const lost = events.find((e) => e.name === 'reconnecting')!.event as StateEvents['reconnecting'];
    assert.equal(lost.code, 4004);
    assert.ok(errors.length >= 1 && errors.every((e) => e.message === 'identity provider down'));
    // Failed refreshes are retried with a backoff, not in a loop, until the token has expired.
    assert.ok(errors.length < 20, `${errors.length} refresh attempts`);
    assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
    assert.equal(calls, errors.length + 2);
  });
});
