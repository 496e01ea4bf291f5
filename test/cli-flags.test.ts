// The CLI's flags are generated from the config schemas: every field of a channel, an outgoing connection and a
// topic has a flag, the flag parses into that field by the field's type, and a bad value is an error naming the flag.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import { parse } from '../src/cli/command-line.js';
import { bodyFromFlags, resourceHelp, resourceOptions } from '../src/cli/resource-flags.js';
import { CHANNEL, OUTGOING, SECURITY, TOPIC, type Resource } from '../src/cli/resources.js';
import { UsageError } from '../src/cli/usage-error.js';

/** Parses `args` as `<noun> create` would, into the API body. */
function bodyOf(resource: Resource, args: string[]): Record<string, unknown> {
  return bodyFromFlags(resource, parse(args, resourceOptions(resource)).values);
}

/** Every leaf field of a schema, as a path (`['reconnect', 'max']`), with its schema. */
function leaves(schema: TObject, prefix: string[] = []): Array<{ path: string[]; schema: TSchema }> {
  return Object.entries(schema.properties).flatMap(([key, field]) =>
    KindGuard.IsObject(field) ? leaves(field, [...prefix, key]) : [{ path: [...prefix, key], schema: field }],
  );
}

const kebab = (path: string[]): string => path.map((p) => p.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join('-');

/** A value the field accepts, other than its default where it can, and the command-line words that give it. */
function sample(path: string[], schema: TSchema): { value: unknown; args: string[] } {
  const variants = KindGuard.IsUnion(schema) ? schema.anyOf.filter((s) => !KindGuard.IsNull(s)) : [schema];
  const first = variants[0]!;
  const flag = `--${kebab(path)}`;
  if (variants.every((v) => KindGuard.IsLiteral(v))) {
    const value = (variants.at(-1) as { const: string }).const;
    return { value, args: [flag, value] };
  }
  if (KindGuard.IsBoolean(first)) {
    const on = kebab([
      ...path.slice(0, -1),
      path
        .at(-1)!
        .replace(/^(is|has)(?=[A-Z])/, '')
        .replace(/^./, (c) => c.toLowerCase()),
    ]);
    return schema.default === true ? { value: false, args: [`--no-${on}`] } : { value: true, args: [`--${on}`] };
  }
  if (KindGuard.IsArray(first)) return { value: ['a', 'b'], args: [flag, 'a', flag, 'b'] };
  if (KindGuard.IsInteger(first) || KindGuard.IsNumber(first)) {
    const n = (first.maximum as number | undefined) ?? ((first.minimum as number | undefined) ?? 1) + 1;
    return { value: n, args: [flag, String(n)] };
  }
  const value = path.at(-1) === 'name' ? '/sample' : 'sample';
  return { value, args: [flag, value] };
}

function valueAt(body: Record<string, unknown>, path: string[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], body);
}

describe('CLI flags generated from the schemas', () => {
  for (const resource of [CHANNEL, OUTGOING, TOPIC, SECURITY]) {
    test(`every ${resource.noun} field is reachable from the command line and parses into that field`, () => {
      const fields = leaves(resource.schema);
      assert.ok(fields.length >= 5);
      for (const { path, schema } of fields) {
        const { value, args } = sample(path, schema);
        assert.deepEqual(valueAt(bodyOf(resource, args), path), value, `${path.join('.')} from ${args.join(' ')}`);
      }
    });

    test(`${resource.noun} --help lists every field's flag with its description and default`, () => {
      const help = resourceHelp(resource);
      for (const flag of resource.flags) {
        const line = help.split('\n').find((l) => l.startsWith(`  --${flag.flag} `));
        assert.ok(line, `no help line for --${flag.flag}`);
        assert.ok(line.includes(flag.description), `--${flag.flag}: ${line}`);
        if ('default' in flag && flag.kind !== 'json') assert.match(line, /default /, `--${flag.flag}: ${line}`);
      }
    });
  }

  test('the flags the issue named exist now: outgoing --max-message-size and --max-pending-requests', () => {
    const body = bodyOf(OUTGOING, ['--max-message-size', '65536', '--max-pending-requests', '5']);
    assert.deepEqual(body, { maxMessageSize: 65536, maxPendingRequests: 5 });
    assert.match(
      resourceHelp(OUTGOING),
      /--max-message-size N\s+largest message from the remote, bytes \(a whole number from 64 to \d+; default 4194304\)/,
    );
  });

  test('a bad value is a usage error naming the flag and saying what it takes', () => {
    const refused = (resource: Resource, args: string[], message: RegExp) =>
      assert.throws(
        () => bodyOf(resource, args),
        (err: unknown) => err instanceof UsageError && message.test(err.message),
      );
    refused(
      OUTGOING,
      ['--max-message-size', 'lots'],
      /^--max-message-size must be a whole number from 64 to 268435456 \(got lots\)$/,
    );
    refused(OUTGOING, ['--pool-size', '1.5'], /^--pool-size must be a whole number from 1 to 64 \(got 1\.5\)$/);
    refused(CHANNEL, ['--ping-interval=-1'], /^--ping-interval must be a number from 0 to 86400 \(got -1\)$/);
    refused(CHANNEL, ['--ping-interval', ''], /^--ping-interval must be a number/);
    refused(CHANNEL, ['--invoke-timeout', '0'], /^--invoke-timeout must be a number above 0 and at most 86400 \(got 0\)$/);
    refused(CHANNEL, ['--protocol', 'zwsx'], /^--protocol must be one of zato, plain \(got zwsx\)$/);
    refused(
      CHANNEL,
      ['--max-connections', 'many'],
      /^--max-connections must be a whole number of at least 1, or none \(got many\)$/,
    );
    refused(TOPIC, ['--on-no-subs-pub', 'maybe'], /^--on-no-subs-pub must be one of accept, drop/);
    refused(OUTGOING, ['--reconnect', '{"max":'], /^--reconnect is not valid JSON/);
    refused(OUTGOING, ['--reconnect', '{"maximum":5}'], /^--reconnect must be a JSON object .*maximum/);
    refused(CHANNEL, ['--active', '--no-active'], /--active and --no-active contradict each other/);
    refused(CHANNEL, ['--allowed-origin', ''], /--allowed-origin takes non-empty values/);
  });

  test('"none" clears a nullable field; lists take both spellings; a nested object takes JSON and per-field flags', () => {
    assert.deepEqual(bodyOf(CHANNEL, ['--security', 'none', '--max-connections', 'none', '--hook-service', 'hooks.x']), {
      security: null,
      maxConnections: null,
      hookService: 'hooks.x',
    });
    assert.deepEqual(bodyOf(CHANNEL, ['--allowed-origin', 'https://a', '--allowed-origins', 'https://b']).allowedOrigins, [
      'https://a',
      'https://b',
    ]);
    assert.deepEqual(bodyOf(OUTGOING, ['--subscription', '/a', '--subscription-list', '/b']).subscriptionList, ['/a', '/b']);
    assert.deepEqual(bodyOf(OUTGOING, ['--reconnect', '{"initial":1,"max":60}', '--reconnect-max', '90']).reconnect, {
      initial: 1,
      max: 90,
    });
  });

  test('the spellings from before the flags were generated still work', () => {
    assert.deepEqual(bodyOf(CHANNEL, ['--inactive']), { isActive: false });
    assert.deepEqual(bodyOf(OUTGOING, ['--zato', '--auto-reconnect']), { isZato: true, hasAutoReconnect: true });
    assert.deepEqual(bodyOf(OUTGOING, ['--not-zato', '--no-auto-reconnect']), { isZato: false, hasAutoReconnect: false });
    assert.deepEqual(bodyOf(TOPIC, ['--gd', '--max-depth-gd', '50000']), { hasGd: true, maxDepthGd: 50000 });
    assert.deepEqual(bodyOf(TOPIC, ['--no-gd']), { hasGd: false });
  });
});
