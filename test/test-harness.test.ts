// The suite's own harness: two passes in scripts/run-tests.mjs (SQLite, then PostgreSQL) and the helpers that give
// each test server a PostgreSQL schema of its own on the second pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDb, testDbEnv, testSchema } from './helpers/test-db.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const HELPER = join(ROOT, 'dist', 'test', 'helpers', 'test-db.js');

/** Runs run-tests.mjs with `args` and extra environment; an unreachable PostgreSQL unless one is given. */
function runTests(args: string[], env: Record<string, string | undefined> = {}) {
  // Port 1: nothing listens there, so the PostgreSQL pass finds it unreachable at once.
  const merged: Record<string, string | undefined> = {
    ...process.env,
    SWITCHBOARD_TEST_DB: 'postgres://postgres@127.0.0.1:1/test',
    ...env,
  };
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead of printing; CI is this case's to set.
  if (!('CI' in env)) delete merged.CI;
  delete merged.NODE_TEST_CONTEXT;
  delete merged.SWITCHBOARD_TEST_PASS;
  if (env.SWITCHBOARD_TEST_PASS) merged.SWITCHBOARD_TEST_PASS = env.SWITCHBOARD_TEST_PASS;
  return spawnSync(process.execPath, [join(ROOT, 'scripts', 'run-tests.mjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: merged as NodeJS.ProcessEnv,
  });
}

/** What the helper module says about `dirs` under the given environment (the module reads it when loaded). */
function helperIn(env: Record<string, string>, dirs: string[]): { schemas: string[]; dbs: Array<string | undefined> } {
  const script = `
    const m = await import(${JSON.stringify(HELPER)});
    const dirs = ${JSON.stringify(dirs)};
    console.log(JSON.stringify({ schemas: dirs.map(m.testSchema), dbs: dirs.map((d) => m.testDb(d).db) }));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as { schemas: string[]; dbs: Array<string | undefined> };
}

const onSqlitePass = { skip: process.env.SWITCHBOARD_TEST_DB ? 'this is the PostgreSQL pass' : false };

test('on the SQLite pass a test server gets no db setting: its SQLite file stays in its temp dir', onSqlitePass, () => {
  assert.deepEqual(testDb('/tmp/switchboard-test-abc'), {});
  assert.deepEqual(testDbEnv('/tmp/switchboard-test-abc'), {});
});

test('on the PostgreSQL pass each server dir has a schema of its own: stable, lower case, at most 63 bytes', () => {
  const dirs = ['/tmp/switchboard-test-AbC123', '/tmp/switchboard-test-abc123', `/tmp/${'x'.repeat(300)}`];
  const env = { SWITCHBOARD_TEST_DB: 'postgres://postgres@127.0.0.1:5432/test', SWITCHBOARD_TEST_RUN: 'Run-42' };
  const { schemas, dbs } = helperIn(env, dirs);
  assert.equal(new Set(schemas).size, 3, 'dirs that differ only in case still differ');
  for (const s of schemas) {
    assert.match(s, /^sbt_run42_[a-z0-9_]+_[0-9a-f]{12}$/);
    assert.ok(Buffer.byteLength(s) <= 63, s);
  }
  assert.deepEqual(helperIn(env, dirs).schemas, schemas, 'the same dir gives the same schema: a restart reuses it');
  assert.deepEqual(
    dbs,
    schemas.map((s) => `postgres://postgres@127.0.0.1:5432/test?schema=${s}`),
  );
  // The name in this process agrees with the format (the run id differs).
  assert.match(testSchema('/tmp/x'), /^sbt_[a-z0-9]*_test_harness_[0-9a-f]{12}$/);
});

test('run-tests.mjs: --sqlite-only and --pg-only exclude each other; SWITCHBOARD_TEST_PASS takes sqlite, postgres or both', () => {
  const both = runTests(['--sqlite-only', '--pg-only', 'test/backoff']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--sqlite-only and --pg-only exclude each other/);
  const bad = runTests(['test/backoff'], { SWITCHBOARD_TEST_PASS: 'mysql' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /SWITCHBOARD_TEST_PASS must be sqlite, postgres or both \(got mysql\)/);
});

test('run-tests.mjs: an unreachable PostgreSQL skips its pass loudly, and fails the run under CI=true', () => {
  const skipped = runTests(['--pg-only', 'test/backoff']);
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.match(
    skipped.stderr,
    /Test pass 2: PostgreSQL SKIPPED: PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test cannot be used/,
  );
  assert.match(skipped.stdout, /PostgreSQL: ok +skipped: PostgreSQL unreachable/);
  assert.doesNotMatch(skipped.stdout, /SQLite +:/, '--pg-only runs no SQLite pass');

  const failed = runTests(['--pg-only', 'test/backoff'], { CI: 'true' });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /Test pass 2: PostgreSQL FAILED: .*under CI=true it must/);
  assert.match(failed.stdout, /PostgreSQL: FAILED PostgreSQL unreachable/);
});

test('run-tests.mjs: a filtered run runs both passes and reports each one’s counts', () => {
  const run = runTests(['test/backoff']);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /=== Test pass 1: SQLite ===/);
  assert.match(run.stdout, /SQLite +: ok +tests \d+, pass \d+, fail 0, skipped 0/);
  assert.match(run.stdout, /PostgreSQL: ok +skipped: PostgreSQL unreachable/);
});
