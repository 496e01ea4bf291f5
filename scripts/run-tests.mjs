#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner, after the linters.
// Extra arguments are passed through, e.g. `npm test -- --test-name-pattern=gateway`.
// Lint (scripts/lint.mjs: eslint, prettier --check) runs first and fails the run on an error when every file runs
// (`npm test`); a run of chosen files (`node scripts/run-tests.mjs channels-zato`) skips it unless `--lint` is given.
// `--no-lint` or SWITCHBOARD_LINT=0 skips it on a full run, for quick local runs.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './ensure-chromium.mjs';
import { lint } from './lint.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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
const ownFlags = new Set(['--lint', '--no-lint']);
const flags = args.filter((a) => a.startsWith('--') && !ownFlags.has(a));
const wantLint =
  args.includes('--lint') || (!filters.length && !args.includes('--no-lint') && process.env.SWITCHBOARD_LINT !== '0');
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
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...flags, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SWITCHBOARD_LOG_LEVEL: process.env.SWITCHBOARD_LOG_LEVEL ?? 'silent' },
});
process.exit(result.status ?? 1);
