import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Service,
  type SwitchboardError,
  bool,
  date,
  dateTime,
  dict,
  float,
  int,
  list,
  opaque,
  text,
  uuid,
} from '../src/index.js';
import { ServiceInvoker, ServiceRegistry, checkOutput, parseInput, registerBuiltins } from '../src/services/index.js';
import { silentLogger } from '../src/observability/index.js';

describe('SimpleIO input', () => {
  const io = {
    inputRequired: ['name', int('count')],
    inputOptional: [
      float('ratio'),
      bool('flag'),
      dict('meta'),
      list('tags'),
      opaque('blob'),
      date('day'),
      dateTime('at'),
      uuid('id'),
    ],
  };

  test('converts what it can and keeps only declared elements', () => {
    const input = parseInput(io, {
      name: 42,
      count: '7',
      ratio: '0.5',
      flag: 'true',
      meta: { a: 1 },
      tags: ['x'],
      blob: [1, { b: 2 }],
      day: '2026-11-24',
      at: '2026-11-24T10:00:00Z',
      id: '123e4567-e89b-12d3-a456-426614174000',
      extra: 'dropped',
    });
    assert.equal(input.name, '42');
    assert.equal(input.count, 7);
    assert.equal(input.ratio, 0.5);
    assert.equal(input.flag, true);
    assert.deepEqual(input.meta, { a: 1 });
    assert.deepEqual(input.blob, [1, { b: 2 }]);
    assert.equal(input.day, '2026-11-24');
    assert.ok(input.at instanceof Date);
    assert.equal('extra' in input, false);
  });

  test('a missing or wrongly typed element is a 400 naming the field', () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ count: 1 }, 'name', /Missing required element: name/],
      [{ name: 'a', count: 1.5 }, 'count', /count must be an integer/],
      [{ name: 'a', count: 1, flag: 'yes' }, 'flag', /boolean/],
      [{ name: 'a', count: 1, meta: [] }, 'meta', /object/],
      [{ name: 'a', count: 1, tags: 'x' }, 'tags', /list/],
      [{ name: 'a', count: 1, day: '24.11.2026' }, 'day', /YYYY-MM-DD/],
      [{ name: 'a', count: 1, at: 'yesterday' }, 'at', /ISO 8601/],
      [{ name: 'a', count: 1, id: 'not-a-uuid' }, 'id', /UUID/],
      [{ name: { nested: true }, count: 1 }, 'name', /string/],
    ];
    for (const [request, field, message] of cases) {
      assert.throws(
        () => parseInput(io, request),
        (err: SwitchboardError) => err.status === 400 && err.field === field && message.test(err.message),
        field,
      );
    }
    assert.throws(
      () => parseInput(io, 'a string'),
      (err: SwitchboardError) => err.field === 'request',
    );
  });

  test('without declared input, an object request is the input; anything else gives {}', () => {
    assert.deepEqual(parseInput(undefined, { a: 1 }), { a: 1 });
    assert.deepEqual(parseInput(undefined, 'text'), {});
  });

  test('output: a missing required element is the service’s fault (500)', () => {
    assert.doesNotThrow(() => checkOutput({ outputRequired: [text('id')] }, { id: 'x' }));
    assert.throws(
      () => checkOutput({ outputRequired: [text('id')] }, {}),
      (err: SwitchboardError) => err.status === 500,
    );
  });
});

describe('registry and invoker', () => {
  class One extends Service {
    static override serviceName = 'reg.one';
    static override aliases = ['reg.uno'];
    handle(): void {
      this.response.payload = 1;
    }
  }
  class Caller extends Service {
    static override serviceName = 'reg.caller';
    async handle(): Promise<void> {
      this.logger.info('calling');
      this.response.payload = { inner: await this.invoke<number>('reg.one'), cid: this.cid, channel: this.channel.type };
    }
  }
  class Throws extends Service {
    static override serviceName = 'reg.throws';
    handle(): void {
      throw new TypeError('x is undefined');
    }
  }

  const setup = () => {
    const registry = new ServiceRegistry();
    registerBuiltins(registry);
    registry.replaceSource(
      'a.ts',
      [One, Caller, Throws].map((cls) => ({ name: cls.serviceName, cls })),
    );
    return { registry, invoker: new ServiceInvoker({ registry, logger: silentLogger() }) };
  };

  test('aliases, chained invoke, cid, channel', async () => {
    const { invoker } = setup();
    assert.equal(await invoker.invoke('reg.uno', undefined), 1);
    const out = (await invoker.invoke('reg.caller', undefined, { cid: 'c-1' })) as {
      inner: number;
      cid: string;
      channel: string;
    };
    assert.deepEqual(out, { inner: 1, cid: 'c-1', channel: 'internal' });
  });

  test('unknown service → 404; a service that throws → 500 internal_error carrying the cause', async () => {
    const { invoker } = setup();
    await assert.rejects(invoker.invoke('reg.none', {}), { code: 'service_not_found', status: 404 });
    await assert.rejects(
      invoker.invoke('reg.throws', {}),
      (err: SwitchboardError) => err.code === 'internal_error' && (err.cause as Error).message === 'x is undefined',
    );
  });

  test('duplicate names across sources are refused atomically; replacing a source drops renamed services', () => {
    const { registry } = setup();
    class Clash extends Service {
      static override serviceName = 'reg.one';
      handle(): void {}
    }
    class Fresh extends Service {
      static override serviceName = 'reg.fresh';
      handle(): void {}
    }
    assert.throws(
      () =>
        registry.replaceSource('b.ts', [
          { name: 'reg.fresh', cls: Fresh },
          { name: 'reg.one', cls: Clash },
        ]),
      { code: 'duplicate_service' },
    );
    assert.equal(registry.get('reg.fresh'), undefined, 'nothing from b.ts was deployed');
    registry.replaceSource('a.ts', [{ name: 'reg.fresh', cls: Fresh }]);
    assert.equal(registry.get('reg.one'), undefined);
    assert.equal(registry.get('reg.uno'), undefined);
    assert.ok(registry.get('reg.fresh'));
  });
});
