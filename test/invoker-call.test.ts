import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { CorkedWriter } from '../src/channels/wsx/corked-writer.js';
import { SwitchboardError } from '../src/errors/index.js';
import { Metrics, silentLogger } from '../src/observability/index.js';
import { Service, ServiceInvoker, ServiceRegistry } from '../src/services/index.js';

// The per-message path of a channel has no promise in it: `invoker.call` answers a synchronous service before it
// returns (so the reply is written inside the read that brought the request), and the connection's writer batches
// what one read produces into one write.

class SyncEcho extends Service {
  static override serviceName = 'call.sync-echo';
  handle(): void {
    this.response.payload = this.request.payload;
  }
}

class AsyncEcho extends Service {
  static override serviceName = 'call.async-echo';
  async handle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.response.payload = this.request.payload;
  }
}

class SyncThrows extends Service {
  static override serviceName = 'call.sync-throws';
  handle(): void {
    throw new Error('boom');
  }
}

class BadOutput extends Service {
  static override serviceName = 'call.bad-output';
  static override io = { outputRequired: ['id'] };
  handle(): void {
    this.response.payload = { other: 1 };
  }
}

function invoker(metrics?: Metrics): ServiceInvoker {
  const registry = new ServiceRegistry();
  registry.replaceSource(
    'test',
    [SyncEcho, AsyncEcho, SyncThrows, BadOutput].map((cls) => ({ name: cls.serviceName, cls })),
  );
  return new ServiceInvoker({ registry, logger: silentLogger(), metrics });
}

type Outcome = { err: SwitchboardError | undefined; payload: unknown };

function call(inv: ServiceInvoker, name: string, request: unknown): { outcomes: Outcome[]; settled: Promise<Outcome> } {
  const outcomes: Outcome[] = [];
  let resolve!: (o: Outcome) => void;
  const settled = new Promise<Outcome>((r) => (resolve = r));
  inv.call(name, request, {}, (err, payload) => {
    outcomes.push({ err, payload });
    resolve({ err, payload });
  });
  return { outcomes, settled };
}

describe('invoker.call', () => {
  test('a synchronous service is answered before call() returns, and counted', () => {
    const metrics = new Metrics();
    const { outcomes } = call(invoker(metrics), SyncEcho.serviceName, { n: 1 });
    assert.deepEqual(outcomes, [{ err: undefined, payload: { n: 1 } }]);
    assert.equal(metrics.summary().serviceCalls, 1);
  });

  test('an async service is answered later, once', async () => {
    const { outcomes, settled } = call(invoker(), AsyncEcho.serviceName, 'x');
    assert.equal(outcomes.length, 0);
    assert.deepEqual(await settled, { err: undefined, payload: 'x' });
    await new Promise((r) => setImmediate(r));
    assert.equal(outcomes.length, 1);
  });

  test('errors are SwitchboardErrors, at once for synchronous failures: a throw, a bad output, no such service', () => {
    const inv = invoker();
    for (const [name, code] of [
      [SyncThrows.serviceName, 'internal_error'],
      [BadOutput.serviceName, 'internal_error'],
      ['call.nowhere', 'service_not_found'],
    ] as const) {
      const { outcomes } = call(inv, name, {});
      assert.equal(outcomes.length, 1, name);
      assert.ok(outcomes[0]!.err instanceof SwitchboardError, name);
      assert.equal(outcomes[0]!.err.code, code, name);
    }
  });

  test("what the caller's callback throws reaches the caller; the service is not blamed and done is not called again", () => {
    const metrics = new Metrics();
    let calls = 0;
    assert.throws(
      () =>
        invoker(metrics).call(SyncEcho.serviceName, 1, {}, () => {
          calls++;
          throw new Error('caller bug');
        }),
      /caller bug/,
    );
    assert.equal(calls, 1);
    assert.equal(metrics.summary().serviceErrors, 0);
  });

  test('invoke() is call() as a promise', async () => {
    const inv = invoker();
    assert.equal(await inv.invoke(SyncEcho.serviceName, 7), 7);
    await assert.rejects(inv.invoke(SyncThrows.serviceName, 7), (err: unknown) => err instanceof SwitchboardError);
  });
});

/** A socket stand-in that records each batch the stream hands to the OS (what `writev` would get). */
function recordingSocket(): { socket: Writable; batches: string[][] } {
  const batches: string[][] = [];
  const socket = new Writable({
    writev(chunks, cb) {
      batches.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
    write(chunk, _enc, cb) {
      batches.push([String(chunk)]);
      cb();
    },
  });
  return { socket, batches };
}

describe('CorkedWriter', () => {
  test('frames written during a read leave together when the read ends, with no timer or tick', () => {
    const { socket, batches } = recordingSocket();
    const writer = new CorkedWriter(socket as never);
    writer.beginRead();
    for (const f of ['a', 'b', 'c']) {
      writer.cork();
      socket.write(f);
    }
    assert.deepEqual(batches, []);
    writer.endRead();
    assert.deepEqual(batches, [['a', 'b', 'c']]);
  });

  test('frames written outside a read leave together on the next tick', async () => {
    const { socket, batches } = recordingSocket();
    const writer = new CorkedWriter(socket as never);
    for (const f of ['a', 'b']) {
      writer.cork();
      socket.write(f);
    }
    assert.deepEqual(batches, []);
    await new Promise((r) => process.nextTick(r));
    assert.deepEqual(batches, [['a', 'b']]);
  });

  test('a read whose end was never seen does not keep its frames: the next read sends them first', () => {
    const { socket, batches } = recordingSocket();
    const writer = new CorkedWriter(socket as never);
    writer.beginRead();
    writer.cork();
    socket.write('lost?');
    writer.beginRead();
    assert.deepEqual(batches, [['lost?']]);
    writer.cork();
    socket.write('next');
    writer.endRead();
    assert.deepEqual(batches, [['lost?'], ['next']]);
  });
});
