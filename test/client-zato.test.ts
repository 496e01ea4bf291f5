// switchboard/client against a server that speaks as Zato 3.2 does (test/helpers/hostile-remote.ts scripted with
// Zato's frames, per /work/shared/reference/zato-wsx-notes.md): statuses without codes, a refusal as a zwsx.merr
// without in_reply_to followed by a dropped TCP socket, zwsx.rqc requests, single-message zwsx.psrq deliveries,
// and a resume by sub_key after the server drops the connection. Only what Zato offers is used.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { AuthError, ServerError, connect, type SwitchboardClient } from '../src/client/node.js';
import { HostileRemote, grantSession, type ClientFrame } from './helpers/hostile-remote.js';
import { waitFor } from './helpers/server.js';

let zato: HostileRemote;
const clients: SwitchboardClient[] = [];

/** A Zato 3.2 reply to an invoke-service. */
function reply(ws: WebSocket, request: ClientFrame, status: number, data: unknown): void {
  const msgType = status === 200 ? 'zwsx.rspok' : 'zwsx.rsperr';
  ws.send(
    JSON.stringify({ meta: { id: 'zato.cid', timestamp: '', msg_type: msgType, status, in_reply_to: request.meta.id }, data }),
  );
}

/** Zato's gateway: ping, the pub/sub services it allows, and Forbidden (403, no code) for anything else. */
function gateway(ws: WebSocket, request: ClientFrame): void {
  const { service, request: input } = request.data as { service: string; request: Record<string, unknown> };
  if (service === 'zato.ping') return reply(ws, request, 200, { pong: 'zato' });
  if (service === 'zato.pubsub.pubapi.subscribe-wsx') return reply(ws, request, 200, { sub_key: 'zpsk.wsx.zato.1' });
  if (service === 'zato.pubsub.resume-wsx-subscription')
    return reply(ws, request, 200, { sub_key: input.sub_key, current_depth: 1 });
  if (service === 'zato.pubsub.pubapi.publish-message') return reply(ws, request, 200, { msg_id: 'zpsm.zato.1' });
  reply(ws, request, 403, 'Forbidden');
}

/** A Zato 3.2 delivery: one message, its msg_id as meta.id. */
function psrq(ws: WebSocket, n: number): void {
  const msgId = `zpsm.zato.${n}`;
  const message = { msg_id: msgId, topic_name: '/zato', data: { n }, delivery_count: 1, priority: 5, sub_key: 'zpsk.wsx.zato.1' };
  ws.send(JSON.stringify({ meta: { id: msgId, timestamp: '', msg_type: 'zwsx.psrq' }, data: message }));
}

before(async () => {
  zato = await HostileRemote.start();
  zato.onInvoke = gateway;
});
after(async () => {
  for (const c of clients) await c.close();
  await zato.close();
});

describe('against a Zato 3.2 server', () => {
  test('session, invoke, an error without a code (its status read as one), and an answered zwsx.rqc', async () => {
    zato.session = grantSession;
    const c = await connect(zato.url, { clientId: 'zato.client', clientName: 'Printer' });
    clients.push(c);
    const session = zato.received.find((f) => f.meta.action === 'create-session')!;
    assert.equal(session.meta.client_id, 'zato.client');
    assert.equal(session.meta.client_name, 'Printer');
    assert.deepEqual(await c.invoke('zato.ping'), { pong: 'zato' });
    const forbidden = await c.invoke('demo.other').catch((e: unknown) => e);
    assert.ok(forbidden instanceof ServerError && forbidden.status === 403 && forbidden.code === 'forbidden', String(forbidden));
    const invoke = zato.received.find((f) => f.meta.action === 'invoke-service')!;
    assert.equal(invoke.meta.token, 'zwsxt.hostile');
    c.onRequest((data) => ({ got: data }));
    zato.broadcast(JSON.stringify({ meta: { id: 'zato.rqc.1', timestamp: '', msg_type: 'zwsx.rqc' }, data: { q: 1 } }));
    const answer = await waitFor(() => zato.received.find((f) => f.meta.in_reply_to === 'zato.rqc.1'));
    assert.equal(answer.meta.action, 'client-response');
    assert.deepEqual(answer.data, { response: { got: { q: 1 } } });
    await c.close();
  });

  test('subscribe, deliveries, and after a dropped socket a new session and a resume by sub_key', async () => {
    zato.session = grantSession;
    const c = await connect(zato.url, { clientId: 'zato.subscriber', reconnect: { initial: 0.01, max: 0.05 } });
    clients.push(c);
    const got: number[] = [];
    const sub = await c.subscribe<{ n: number }>('/zato', (m) => void got.push(m.data.n), { ackMode: 'write' });
    assert.equal(sub.subKey, 'zpsk.wsx.zato.1');
    for (const ws of zato.sockets) for (let n = 1; n <= 3; n++) psrq(ws, n);
    await waitFor(() => got.length === 3);
    const before = zato.received.length;
    for (const ws of zato.sockets) ws.terminate();
    const resume = await waitFor(() =>
      zato.received
        .slice(before)
        .find((f) => (f.data as { service?: string } | undefined)?.service === 'zato.pubsub.resume-wsx-subscription'),
    );
    assert.deepEqual((resume.data as { request: unknown }).request, { sub_key: 'zpsk.wsx.zato.1' });
    const again = zato.received.slice(before).find((f) => f.meta.action === 'create-session')!;
    assert.equal(again.meta.client_id, 'zato.subscriber');
    await waitFor(() => c.state === 'open');
    // Zato resends nothing (it acknowledges on write); a message delivered again would not be handed on twice.
    for (const ws of zato.sockets) for (const n of [3, 4]) psrq(ws, n);
    await waitFor(() => got.length === 4);
    assert.deepEqual(got, [1, 2, 3, 4]);
    // ackMode write: no acknowledgements sent.
    assert.equal(zato.received.filter((f) => f.meta.action === 'client-response').length, 1, "only the first test's answer");
    await c.close();
  });

  test("Zato's refusal (zwsx.merr 403 without in_reply_to or code, then the TCP socket dropped): an AuthError, no reconnect", async () => {
    const connectionsBefore = zato.connections;
    zato.session = () => {
      setTimeout(() => {
        for (const ws of zato.sockets) ws.terminate();
      }, 10);
      return JSON.stringify({ meta: { id: 'zato.err', timestamp: '', msg_type: 'zwsx.merr', status: 403 }, data: 'Forbidden' });
    };
    const err = await connect(zato.url, { username: 'u', secret: 'wrong', retryFirstConnect: true }).catch((e: unknown) => e);
    assert.ok(err instanceof AuthError && err.code === 'invalid_credentials' && err.status === 403, String(err));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(zato.connections, connectionsBefore + 1);
  });
});
