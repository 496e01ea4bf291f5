// The docs' field tables (docs/channels.md, outgoing.md, pubsub.md) list every field of the config schemas, with the
// schema's default: the schema is the one declaration, and the prose must not drift from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TObject } from '@sinclair/typebox';
import { ChannelConfigSchema } from '../src/channels/wsx/index.js';
import { OutgoingConfigSchema } from '../src/outgoing/wsx/index.js';
import { TopicConfigSchema } from '../src/pubsub/index.js';

/** The `| field | default | meaning |` rows of a doc: each field named in the first cell, with the default cell. */
function fieldTable(doc: string): Map<string, string> {
  const text = readFileSync(fileURLToPath(new URL(`../../docs/${doc}`, import.meta.url)), 'utf8');
  const rows = new Map<string, string>();
  const table = text.slice(text.indexOf('| field | default | meaning |'));
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [names = '', value = ''] = line
      .split('|')
      .slice(1)
      .map((c) => c.trim());
    for (const [, name] of names.matchAll(/`(\w+)`/g)) rows.set(name!, value);
  }
  return rows;
}

/** A default cell as a value: `5 s` → 5, `1 MiB` → 1048576, `10,000` → 10000, none → null, `[]`/any → []. */
function cellValue(cell: string): unknown {
  const plain = cell
    .replace(/\(was [^)]*\)/, '')
    .replace(/`/g, '')
    .trim();
  if (plain === 'none') return null;
  if (plain === 'any' || plain === '[]') return [];
  if (plain === 'true' || plain === 'false') return plain === 'true';
  if (plain.startsWith('{')) return JSON.parse(plain.replace(/(\w+):/g, '"$1":'));
  const size = /^(\d+) MiB$/.exec(plain);
  if (size) return Number(size[1]) * 1024 * 1024;
  const number = /^([\d,.]+)(?: s)?(?: \(.*\))?$/.exec(plain);
  return number ? Number(number[1]!.replace(/,/g, '')) : plain;
}

for (const [doc, schema] of [
  ['channels.md', ChannelConfigSchema],
  ['outgoing.md', OutgoingConfigSchema],
  ['pubsub.md', TopicConfigSchema],
] as const) {
  test(`docs/${doc} lists every field with the schema's default`, () => {
    const rows = fieldTable(doc);
    for (const [field, fieldSchema] of Object.entries((schema as TObject).properties)) {
      assert.ok(rows.has(field), `docs/${doc} has no row for ${field}`);
      // A nested object's default is {} with each of its fields defaulted: the docs show it filled in (below).
      if (!('default' in fieldSchema) || field === 'reconnect') continue;
      const wanted: unknown = fieldSchema.default;
      const shown = cellValue(rows.get(field)!);
      // "none" reads as an empty list for a list field.
      assert.deepEqual(
        Array.isArray(wanted) && shown === null ? [] : shown,
        wanted,
        `docs/${doc}: ${field} shows ${rows.get(field)}`,
      );
    }
  });
}

test('docs/outgoing.md shows the reconnect defaults of the schema', () => {
  const reconnect = OutgoingConfigSchema.properties.reconnect;
  const defaults = Object.fromEntries(
    Object.entries(reconnect.properties).map(([k, s]) => [k, (s as { default: unknown }).default]),
  );
  assert.deepEqual(cellValue(fieldTable('outgoing.md').get('reconnect')!), defaults);
});
