import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConfigFileError,
  covers,
  diffObject,
  parseConfigFile,
  planApply,
  type Action,
  type ConfigFile,
} from '../src/cli/apply.js';

// `switchboard apply`'s planner on its own: no server, no HTTP, only the pure diff and the file's shape.

const KEEP = { prune: false, forceSecrets: false };
const PRUNE = { prune: true, forceSecrets: false };

const steps = (actions: readonly Action[]) => actions.map((a) => `${a.op} ${a.key} ${a.name}`);

describe('diffObject', () => {
  test('an object the server lacks is created with the body as the file gives it', () => {
    const wanted = { name: 'c1', address: 'ws://127.0.0.1:1/a', service: 'zato.ping' };
    assert.deepEqual(diffObject('channels', wanted, undefined, false), {
      op: 'create',
      key: 'channels',
      name: 'c1',
      body: wanted,
    });
  });

  test('fields the file leaves out keep the server value; only the fields the file gives are compared', () => {
    const existing = { name: 'c1', address: 'ws://127.0.0.1:1/a', service: 'zato.ping', maxConnections: 10 };
    const action = diffObject('channels', { name: 'c1', service: 'zato.ping' }, existing, false);
    assert.deepEqual(action, { op: 'unchanged', key: 'channels', name: 'c1', unsentSecret: false });
  });

  test('a changed field is an update that PUTs the server object with the file merged in, naming the fields', () => {
    const existing = { name: 'c1', address: 'ws://127.0.0.1:1/a', service: 'zato.ping', maxConnections: 10 };
    const action = diffObject('channels', { name: 'c1', service: 'zato.helpers.echo' }, existing, false);
    assert.deepEqual(action, {
      op: 'update',
      key: 'channels',
      name: 'c1',
      body: { name: 'c1', address: 'ws://127.0.0.1:1/a', service: 'zato.helpers.echo', maxConnections: 10 },
      fields: ['service'],
    });
  });

  test('nested objects may give some fields: the rest keep theirs, in the comparison and in the body', () => {
    const existing = { name: 'o1', address: 'ws://h/x', reconnect: { initial: 1, max: 30, factor: 2 } };
    assert.equal(diffObject('outgoing', { name: 'o1', reconnect: { max: 30 } }, existing, false).op, 'unchanged');
    const update = diffObject('outgoing', { name: 'o1', reconnect: { max: 60 } }, existing, false);
    assert.equal(update.op, 'update');
    assert.deepEqual(update.op === 'update' && update.body.reconnect, { initial: 1, max: 60, factor: 2 });
  });

  test('lists compare whole: a list with fewer items is a change', () => {
    const existing = { name: 'c1', gatewayServices: ['a', 'b'] };
    assert.equal(diffObject('channels', { name: 'c1', gatewayServices: ['a', 'b'] }, existing, false).op, 'unchanged');
    assert.equal(diffObject('channels', { name: 'c1', gatewayServices: ['a'] }, existing, false).op, 'update');
  });

  test('a secret for an existing definition is not sent on its own, and the plan says it was left alone', () => {
    const existing = { name: 's1', username: 'u' };
    assert.deepEqual(diffObject('security', { name: 's1', username: 'u', password: 'p' }, existing, false), {
      op: 'unchanged',
      key: 'security',
      name: 's1',
      unsentSecret: true,
    });
  });

  test('a secret is sent with forceSecrets, and along with any other change', () => {
    const existing = { name: 's1', username: 'u' };
    const forced = diffObject('security', { name: 's1', username: 'u', password: 'p' }, existing, true);
    assert.deepEqual(forced, {
      op: 'update',
      key: 'security',
      name: 's1',
      body: { name: 's1', username: 'u', password: 'p' },
      fields: ['password'],
    });
    const withChange = diffObject('security', { name: 's1', username: 'v', password: 'p' }, existing, false);
    assert.equal(withChange.op, 'update');
    assert.deepEqual(withChange.op === 'update' && withChange.fields, ['username', 'password']);
  });

  test('a field named like a secret is compared normally outside security definitions', () => {
    assert.equal(diffObject('channels', { name: 'c1', password: 'x' }, { name: 'c1', password: 'x' }, false).op, 'unchanged');
    assert.equal(diffObject('channels', { name: 'c1', password: 'y' }, { name: 'c1', password: 'x' }, false).op, 'update');
  });

  test('covers: nested partial objects yes, differing plain values and lists no', () => {
    assert.equal(covers({ a: { b: 1 } }, { a: { b: 1, c: 2 } }), true);
    assert.equal(covers({ a: 1 }, { a: '1' }), false);
    assert.equal(covers([1, 2], [1, 2, 3]), false);
    assert.equal(covers(undefined, undefined), true);
  });
});

describe('planApply', () => {
  const current: ConfigFile = {
    security: [
      { name: 'sec-old', username: 'o' },
      { name: 'sec-keep', username: 'k' },
    ],
    channels: [
      { name: 'ch-b', address: 'ws://h:1/b', service: 'zato.ping' },
      { name: 'ch-gone', address: 'ws://h:1/g', service: 'zato.ping', security: 'sec-old' },
    ],
    outgoing: [{ name: 'out-gone', address: 'ws://r/x' }],
    topics: [{ name: '/t-keep' }],
  };
  const desired: ConfigFile = {
    security: [
      { name: 'sec-new', username: 'n', password: 'p' },
      { name: 'sec-keep', username: 'k' },
    ],
    channels: [
      { name: 'ch-c', address: 'ws://h:1/c', service: 'zato.ping', security: 'sec-new' },
      { name: 'ch-b', address: 'ws://h:1/b', service: 'zato.helpers.echo' },
    ],
    outgoing: [{ name: 'out-a', address: 'ws://r/y', security: 'sec-new' }],
    topics: [{ name: '/t-keep' }],
  };

  test('without prune: security first, then channels, outgoing and topics, each sorted by name; nothing deleted', () => {
    assert.deepEqual(steps(planApply(desired, current, KEEP)), [
      'unchanged security sec-keep',
      'create security sec-new',
      'update channels ch-b',
      'create channels ch-c',
      'create outgoing out-a',
      'unchanged topics /t-keep',
    ]);
  });

  test('with prune: deletions come first in their kind (an address is freed before it is taken) and security is deleted last', () => {
    assert.deepEqual(steps(planApply(desired, current, PRUNE)), [
      'unchanged security sec-keep',
      'create security sec-new',
      'delete channels ch-gone',
      'update channels ch-b',
      'create channels ch-c',
      'delete outgoing out-gone',
      'create outgoing out-a',
      'unchanged topics /t-keep',
      // After every channel and connection that used it is gone or moved to another definition.
      'delete security sec-old',
    ]);
  });

  test('prune touches only the kinds the file lists', () => {
    const actions = planApply({ topics: [{ name: '/t-new' }] }, current, PRUNE);
    assert.deepEqual(steps(actions), ['delete topics /t-keep', 'create topics /t-new']);
  });

  test('an empty list with prune deletes every object of that kind; an absent key deletes none', () => {
    assert.deepEqual(steps(planApply({ outgoing: [] }, current, PRUNE)), ['delete outgoing out-gone']);
    assert.deepEqual(planApply({}, current, PRUNE), []);
  });

  test('a server with nothing: everything is created, security before what uses it', () => {
    const actions = planApply(desired, {}, PRUNE);
    assert.ok(actions.every((a) => a.op === 'create'));
    assert.deepEqual(
      actions.map((a) => a.key),
      ['security', 'security', 'channels', 'channels', 'outgoing', 'topics'],
    );
  });

  test('applying what the server already has plans no change', () => {
    const actions = planApply(current, current, PRUNE);
    assert.ok(
      actions.every((a) => a.op === 'unchanged'),
      JSON.stringify(actions),
    );
    assert.equal(actions.length, 6);
  });

  test('the plan is pure: inputs are not changed', () => {
    const before = JSON.stringify({ desired, current });
    planApply(desired, current, { prune: true, forceSecrets: true });
    assert.equal(JSON.stringify({ desired, current }), before);
  });
});

describe('parseConfigFile (bad input)', () => {
  const bad = (text: string, message: RegExp) =>
    assert.throws(
      () => parseConfigFile(text, 'f.json'),
      (err: unknown) => err instanceof ConfigFileError && message.test(err.message),
    );

  test('not JSON, not an object, an unknown key', () => {
    bad('{', /f\.json is not valid JSON/);
    bad('[]', /must hold a JSON object/);
    bad('{"channel": []}', /unknown top-level key "channel"/);
  });

  test('a kind that is not a list, an entry without a name, a name given twice', () => {
    bad('{"topics": {}}', /"topics" must be a list/);
    bad('{"topics": [{"maxDepthGd": 1}]}', /topics\[0\] must be an object with a "name"/);
    bad('{"topics": [{"name": ""}]}', /topics\[0\]/);
    bad('{"topics": [{"name": "/a"}, {"name": "/a"}]}', /"\/a" appears twice/);
  });

  test('a good file parses into its lists, entries untouched', () => {
    assert.deepEqual(parseConfigFile('{"topics": [{"name": "/a", "x": 1}], "security": []}', 'f.json'), {
      topics: [{ name: '/a', x: 1 }],
      security: [],
    });
  });
});
