// Pub/sub reaches the database only through store/'s repository (issue 11 item 4): no file under src/pubsub imports
// better-sqlite3 or Kysely, calls `Store.prepared()` or `store.db`, or reaches into store/ other than its index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(process.cwd(), 'src', 'pubsub');

test('src/pubsub holds policy only: no database driver, query builder or store internals', () => {
  const offences: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(dir, name), 'utf8');
    if (/from ['"](better-sqlite3|kysely)['"]/.test(text)) offences.push(`${name}: imports a database library`);
    if (/\.prepared\(/.test(text)) offences.push(`${name}: calls Store.prepared()`);
    if (/\.db\.(selectFrom|insertInto|updateTable|deleteFrom|transaction)\b/.test(text))
      offences.push(`${name}: queries store.db`);
    if (/from ['"]\.\.\/store\/(?!index\.js)/.test(text)) offences.push(`${name}: imports store/ other than its index`);
  }
  assert.deepEqual(offences, []);
});

test('every file under src/pubsub stays under 350 lines', () => {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n').length;
    assert.ok(lines <= 350, `${name} has ${lines} lines`);
  }
});
