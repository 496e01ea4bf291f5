// fillDefaults, the one normaliser behind every config object: defaults from the schema, nothing shared with the
// input, unknown keys dropped, schema key order — and Filled<>, the type that says which fields are then present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { fillDefaults, withDefault, type Filled } from '../src/config-schema/index.js';

const Inner = Type.Object({ a: withDefault(Type.Number(), 1), b: withDefault(Type.Number(), 2) });
const Schema = Type.Object({
  name: Type.String(),
  size: withDefault(Type.Integer({ minimum: 1 }), 10),
  tags: withDefault(Type.Array(Type.String()), []),
  ref: withDefault(Type.Union([Type.String(), Type.Null()]), null),
  note: Type.Optional(Type.String()),
  inner: withDefault(Inner, {}),
});

test('defaults fill what is missing or undefined; given values, null included, are kept', () => {
  const filled = fillDefaults(Schema, { name: 'x', size: undefined, ref: null, inner: { b: 5 } });
  assert.deepEqual(filled, { name: 'x', size: 10, tags: [], ref: null, inner: { a: 1, b: 5 } });
  assert.equal(fillDefaults(Schema, { name: 'x', ref: 'r' }).ref, 'r');
});

test('the result shares nothing with the input or with the schema, drops unknown keys and follows the schema order', () => {
  const input = { inner: { a: 3 }, tags: ['t'], name: 'x', extra: true };
  const filled = fillDefaults(Schema, input);
  assert.deepEqual(Object.keys(filled), ['name', 'size', 'tags', 'ref', 'inner']);
  assert.notEqual(filled.tags, input.tags);
  assert.notEqual(filled.inner, input.inner);
  filled.tags.push('u');
  assert.deepEqual(input, { inner: { a: 3 }, tags: ['t'], name: 'x', extra: true });
  assert.deepEqual(fillDefaults(Schema, { name: 'y' }).tags, [], 'a default array is a fresh copy each time');
});

test('withDefault puts the default in the JSON Schema, where the OpenAPI document and the CLI read it', () => {
  assert.equal(Schema.properties.size.default, 10);
  assert.equal(Schema.properties.size.minimum, 1);
  assert.deepEqual(Schema.properties.inner.default, {});
});

test('Filled<> makes defaulted fields required, nested ones too, and leaves other optional fields optional', () => {
  const filled: Filled<typeof Schema> = fillDefaults(Schema, { name: 'x' });
  // These assignments compile only if the fields are required and not undefined.
  const size: number = filled.size;
  const a: number = filled.inner.a;
  const ref: string | null = filled.ref;
  const note: string | undefined = filled.note;
  assert.deepEqual([size, a, ref, note], [10, 1, null, undefined]);
});
