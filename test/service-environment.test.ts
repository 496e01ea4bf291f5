import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InternalError } from '../src/errors/index.js';
import { silentLogger } from '../src/observability/index.js';
import type { PubSub } from '../src/pubsub/index.js';
import { lateBoundEnvironment } from '../src/server/service-environment.js';
import { Service, ServiceInvoker, ServiceRegistry, type WsxChannelHandle } from '../src/services/index.js';

// How a service reaches the other parts: the environment is given to the invoker's constructor, and the server's
// late-bound one is complete before anything can call a service.

class UsesParts extends Service {
  static override serviceName = 'env.uses-parts';
  async handle(): Promise<void> {
    const which = (this.request.payload as { which: string }).which;
    if (which === 'out') this.response.payload = this.out.wsx.get('o1').config.name;
    else if (which === 'wsx') this.response.payload = this.wsx.channel('c1').clients().length;
    else this.response.payload = await this.pubsub.publish('/t', { x: 1 }, { priority: 7 });
  }
}

function invokerWith(environment?: ReturnType<typeof lateBoundEnvironment>['environment']): ServiceInvoker {
  const registry = new ServiceRegistry();
  registry.replaceSource('test', [{ name: UsesParts.serviceName, cls: UsesParts }]);
  return new ServiceInvoker({ registry, logger: silentLogger(), environment });
}

const fakeParts = (published: unknown[]) => ({
  channels: { channel: () => ({ clients: () => [{}, {}] }) as unknown as WsxChannelHandle },
  outgoing: {
    get: (name: string) => ({
      config: { name, address: 'ws://x', isZato: false },
      conn: { client: () => Promise.reject(new Error('unused')) },
    }),
  },
  pubsub: { publish: async (topic: string, input: unknown) => (published.push({ topic, input }), 'msg-1') } as unknown as PubSub,
});

describe('service environment', () => {
  test('an invoker built without one: this.out, this.wsx and this.pubsub fail with internal_error, naming the part', async () => {
    const invoker = invokerWith();
    for (const [which, part] of [
      ['out', /Outgoing WebSocket connections are not running/],
      ['wsx', /WebSocket channels are not running/],
      ['pubsub', /Publish\/subscribe is not running/],
    ] as const) {
      await assert.rejects(
        invoker.invoke(UsesParts.serviceName, { which }),
        (err: unknown) => err instanceof InternalError && part.test(err.message),
      );
    }
  });

  test('the late-bound environment reaches the parts once bound; publish passes data and options through', async () => {
    const late = lateBoundEnvironment();
    const invoker = invokerWith(late.environment);
    const published: unknown[] = [];
    late.bind(fakeParts(published));
    assert.equal(await invoker.invoke(UsesParts.serviceName, { which: 'out' }), 'o1');
    assert.equal(await invoker.invoke(UsesParts.serviceName, { which: 'wsx' }), 2);
    assert.equal(await invoker.invoke(UsesParts.serviceName, { which: 'pubsub' }), 'msg-1');
    assert.deepEqual(published, [{ topic: '/t', input: { priority: 7, data: { x: 1 } } }]);
  });

  test('used before it is bound, it says the server is still being built (a wiring bug), as a rejection for publish', async () => {
    const late = lateBoundEnvironment();
    assert.throws(() => late.environment.outgoingWsx.get('o1'), /still being built/);
    assert.throws(() => late.environment.wsx.channel('c1'), /still being built/);
    await assert.rejects(late.environment.pubsub.publish('/t', 1), /still being built/);
  });

  test('it is bound once', () => {
    const late = lateBoundEnvironment();
    late.bind(fakeParts([]));
    assert.throws(() => late.bind(fakeParts([])), /bound once/);
  });
});
