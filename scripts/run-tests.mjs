#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner, after the linters, in two passes:
// first on SQLite (each test server keeps a SQLite file in its temp dir), then on PostgreSQL (SWITCHBOARD_TEST_DB
// names the database; test/helpers/test-db.ts gives each test server a schema of its own there and drops it after).
// Extra arguments are passed through, e.g. `npm test -- --test-name-pattern=gateway`.
// Lint (scripts/lint.mjs: eslint, prettier --check) runs first and fails the run on an error when every file runs
// (`npm test`); a run of chosen files (`node scripts/run-tests.mjs test/channels-zato`) skips it unless `--lint` is
// given. `--no-lint` or SWITCHBOARD_LINT=0 skips it on a full run, for quick local runs.
// Passes: both by default, also for chosen files; `--sqlite-only` / `--pg-only` (or SWITCHBOARD_TEST_PASS=sqlite /
// postgres) run one. The PostgreSQL pass uses SWITCHBOARD_TEST_DB (default postgres://postgres@127.0.0.1:5432/test); when that
// does not answer, the pass fails the run under CI=true and is skipped with a loud message elsewhere.
import { readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { HAPROXY, ensureChromium, ensureDebianPackage } from './ensure-debian-package.mjs';
import { lint } from './lint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';

// Test files that run once, on the SQLite pass (or on the PostgreSQL pass when it is the only one): tests about
// SQLite itself, and files that open their stores themselves rather than through the test helpers (so the pass's
// database changes nothing for them). A single test inside a file that runs on both passes is marked where it
// stands, with `sqliteOnly(reason)` from test/helpers/test-db.ts.
const ONE_PASS = {
  'change-follower.test.js': 'SQLite only: unit tests of the follower on a SQLite store opened by path',
  'cluster-listener.test.js': 'opens its own PostgreSQL connections (test/helpers/postgres.ts), no store',
  'delivery-task.test.js': 'SQLite only: unit tests of delivery on a SQLite store opened by path',
  'pubsub-repository.test.js': 'opens its own stores by path or URL',
  'pubsub-marks.test.js': 'opens its own PostgreSQL stores (test/helpers/postgres.ts)',
  'pubsub-queries.test.js': "SQLite only: checks SQLite's query plans through better-sqlite3",
  'store-sqlite-lock.test.js': 'SQLite only: one server per SQLite file, the lock and a second main.js on one data dir',
  'store-postgres.test.js': 'opens its own PostgreSQL schemas (test/helpers/postgres.ts)',
  'cluster.test.js': 'runs server processes on a PostgreSQL schema of its own (test/helpers/cluster.ts)',
  'cluster-lb.test.js': 'runs server processes on a PostgreSQL schema of its own, behind HAProxy',
  'cluster-clients.test.js': 'runs server processes on a PostgreSQL schema of its own (test/helpers/cluster.ts)',
  'cluster-pubsub.test.js': 'runs server processes on a PostgreSQL schema of its own (test/helpers/cluster.ts)',
  'cluster-crash.test.js': 'runs server processes on a PostgreSQL schema of its own (test/helpers/cluster.ts)',
};

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const ownFlags = new Set(['--lint', '--no-lint', '--sqlite-only', '--pg-only']);
const flags = args.filter((a) => a.startsWith('--') && !ownFlags.has(a));
const wantLint =
  args.includes('--lint') || (!filters.length && !args.includes('--no-lint') && process.env.SWITCHBOARD_LINT !== '0');

/** The passes asked for: both unless a flag or SWITCHBOARD_TEST_PASS picks one. */
function passesWanted() {
  const env = process.env.SWITCHBOARD_TEST_PASS;
  if (args.includes('--sqlite-only') && args.includes('--pg-only')) {
    console.error('--sqlite-only and --pg-only exclude each other');
    process.exit(2);
  }
  if (args.includes('--sqlite-only') || env === 'sqlite') return ['sqlite'];
  if (args.includes('--pg-only') || env === 'postgres') return ['postgres'];
  if (env && env !== 'both') {
    console.error(`SWITCHBOARD_TEST_PASS must be sqlite, postgres or both (got ${env})`);
    process.exit(2);
  }
  return ['sqlite', 'postgres'];
}

/** Why PostgreSQL at `url` cannot be used, or undefined when it answers. */
async function pgProblem(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return err.message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Drops the schemas of this run that a test left behind (a crash, a missing cleanup); says how many. */
async function dropLeftovers(url, run) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query('select nspname from pg_namespace where nspname like $1', [`sbt\\_${run}\\_%`]);
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
    if (rows.length) console.error(`Dropped ${rows.length} PostgreSQL schema(s) the tests left behind`);
  } catch (err) {
    console.error(`PostgreSQL pass: could not drop leftover schemas: ${err.message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs the test files, echoing the output; resolves with the exit status and the runner's summary counts. */
function runFiles(files, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...flags, ...files], {
      cwd: root,
      stdio: ['inherit', 'pipe', 'inherit'],
      env,
    });
    const counts = {};
    // The summary comes before the list of failures, so each count line is read as it passes.
    let partial = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = /^\u2139 (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
        if (m) counts[m[1]] = Number(m[2]);
      }
    });
    child.on('close', (code) => {
      resolve({ status: code ?? 1, counts });
    });
  });
}

if (wantLint) {
  const status = lint();
  if (status !== 0) {
    console.error('Lint failed: `npm run format` fixes formatting and what eslint can fix; `--no-lint` skips it.');
    process.exit(status);
  }
}
let files = collect(join(root, 'dist', 'test')).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error('No test files found under dist/test');
  process.exit(1);
}
if (files.some((f) => f.includes('web-admin'))) ensureChromium();
if (files.some((f) => f.includes('cluster-lb')))
  ensureDebianPackage(HAPROXY, 'haproxy', 'the load-balancer test of docs/cluster.md');

const baseEnv = { ...process.env, SWITCHBOARD_LOG_LEVEL: process.env.SWITCHBOARD_LOG_LEVEL ?? 'silent' };
delete baseEnv.SWITCHBOARD_TEST_DB;
const pgUrl = process.env.SWITCHBOARD_TEST_DB || DEFAULT_PG;
// One id for the run, in every PostgreSQL schema a test makes (on either pass), so that the run drops what a
// crashed test left behind without touching another run's schemas in the same database.
const run = Date.now().toString(36).slice(-8);
baseEnv.SWITCHBOARD_TEST_RUN = run;
// Tests that open PostgreSQL schemas of their own (test/helpers/postgres.ts) use the same database on either pass.
baseEnv.SWITCHBOARD_TEST_PG = pgUrl;
const results = [];
for (const pass of passesWanted()) {
  if (pass === 'sqlite') {
    console.log('\n=== Test pass 1: SQLite ===\n');
    results.push({ pass, ...(await runFiles(files, baseEnv)) });
    continue;
  }
  const problem = await pgProblem(pgUrl);
  if (problem) {
    const line = `PostgreSQL at ${pgUrl} cannot be used (${problem})`;
    if (process.env.CI === 'true') {
      console.error(`\n=== Test pass 2: PostgreSQL FAILED: ${line}; under CI=true it must. ===\n`);
      results.push({ pass, status: 1, counts: {}, note: 'PostgreSQL unreachable' });
    } else {
      console.error(`\n!!! Test pass 2: PostgreSQL SKIPPED: ${line}. Start it, or set SWITCHBOARD_TEST_DB. !!!\n`);
      results.push({ pass, status: 0, counts: {}, note: 'skipped: PostgreSQL unreachable' });
    }
    continue;
  }
  const onlyPass = results.length === 0;
  const name = (f) => f.split(/[\\/]/).pop();
  // Alone, this pass runs the one-pass files too, but not those about SQLite itself: they have nothing to check here.
  const aboutSqlite = (f) => ONE_PASS[name(f)]?.startsWith('SQLite only') === true;
  const pgFiles = files.filter((f) => (onlyPass ? !aboutSqlite(f) : !Object.hasOwn(ONE_PASS, name(f))));
  console.log(`\n=== Test pass 2: PostgreSQL (${pgUrl}, a schema per test server) ===`);
  for (const f of files.filter((x) => !pgFiles.includes(x)))
    console.log(`  ${onlyPass ? 'not run (SQLite only)' : 'ran on the SQLite pass only'}: ${name(f)}: ${ONE_PASS[name(f)]}`);
  console.log('');
  const env = { ...baseEnv, SWITCHBOARD_TEST_DB: pgUrl };
  results.push({
    pass,
    ...(pgFiles.length ? await runFiles(pgFiles, env) : { status: 0, counts: { tests: 0, pass: 0, fail: 0 } }),
  });
}
if (!(await pgProblem(pgUrl))) await dropLeftovers(pgUrl, run);

console.log('\n=== Test passes ===');
for (const r of results) {
  const c = r.counts;
  const summary = r.note ?? `tests ${c.tests ?? '?'}, pass ${c.pass ?? '?'}, fail ${c.fail ?? '?'}, skipped ${c.skipped ?? 0}`;
  console.log(`${r.pass === 'sqlite' ? 'SQLite    ' : 'PostgreSQL'}: ${r.status === 0 ? 'ok    ' : 'FAILED'} ${summary}`);
}
process.exit(results.some((r) => r.status !== 0) ? 1 : 0);
