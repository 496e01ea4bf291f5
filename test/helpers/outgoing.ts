import assert from 'node:assert/strict';
import { Service, opaque, type WsxHookCtx } from '../../src/index.js';
import { createChannel, startTestServer, waitFor, type TestServer } from './server.js';
import { deployTestServices } from './services.js';

/** Invokes `request.service` on the outgoing connection `request.conn`; returns the response or the error. */
export class CallRemote extends Service {
  static override serviceName = 'test.call-remote';
  async handle(): Promise<void> {
    const { conn, msg } = this.request.payload as { conn: string; msg: unknown };
    await using client = await this.out.wsx.get(conn).conn.client();
    const response = await client.invoke(msg);
    this.response.payload = response ?? null;
  }
}

/** A MESSAGE hook that answers server requests with `{ answered: data }`. */
export class Answer extends Service {
  static override serviceName = 'test.answer';
  static override io = { inputOptional: [opaque('ctx')] };
  handle(): void {
    const ctx = this.request.input.ctx as WsxHookCtx;
    this.response.payload = { answered: ctx.data };
  }
}

/** A MESSAGE hook that records ctx and answers through ctx.conn. */
export class Reflect extends Service {
  static override serviceName = 'test.reflect';
  static override io = { inputOptional: [opaque('ctx')] };
  static seen: WsxHookCtx[] = [];
  async handle(): Promise<void> {
    const ctx = this.request.input.ctx as WsxHookCtx;
    Reflect.seen.push(ctx);
    const conn = ctx.conn as { send(msg: unknown): Promise<unknown> };
    await conn.send({ reflected: ctx.data });
  }
}

/** A hook that always throws. */
export class BadHook extends Service {
  static override serviceName = 'test.bad-hook';
  static calls = 0;
  handle(): void {
    BadHook.calls += 1;
    throw new Error('hook bug');
  }
}

/** A test server with the services above and a Zato gateway channel `remote` to connect outgoing connections to. */
export interface OutgoingTestBed {
  readonly server: TestServer;
  /** The `remote` channel's URL (gateway, `test.*` allowed). */
  readonly zatoUrl: string;
  /** Creates an outgoing connection (fast reconnects unless the body says otherwise); asserts 201. */
  outgoing(body: Record<string, unknown>): Promise<Record<string, any>>;
  state(name: string): Record<string, any>;
  connected(name: string): Promise<unknown>;
  /** Calls `test.call-remote` through the admin API. */
  call(conn: string, msg: unknown): Promise<{ status: number; body: any }>;
}

/** Starts the server the outgoing-connection tests share. */
export async function startOutgoingTestBed(): Promise<OutgoingTestBed> {
  const server = await startTestServer();
  deployTestServices(server);
  server.registry.replaceSource(
    'faults',
    [CallRemote, Answer, BadHook, Reflect].map((cls) => ({ name: cls.serviceName, cls })),
  );
  const zatoUrl = await createChannel(server, {
    name: 'remote',
    service: 'helpers.web-sockets-gateway',
    gatewayServices: ['test.*'],
  });
  const state = (name: string) => server.outgoingManager.state(name) as Record<string, any>;
  return {
    server,
    zatoUrl,
    async outgoing(body) {
      const res = await server.api('POST', '/api/outgoing/wsx', { reconnect: { initial: 0.02, max: 0.1 }, ...body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    },
    state,
    connected: (name) => waitFor(() => state(name).state === 'connected', 5000, `${name} to connect`),
    call: (conn, msg) => server.api('POST', '/api/services/test.call-remote/invoke', { request: { conn, msg } }),
  };
}
