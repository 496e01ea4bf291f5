#!/usr/bin/env node
// Installs dependencies and builds, each only when its inputs changed since the last run,
// so `npm start` and `npm test` work on a fresh clone and stay quick afterwards.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  console.log(`[setup] ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

function hashOf(files) {
  const h = createHash('sha256');
  for (const f of files) if (existsSync(join(root, f))) h.update(readFileSync(join(root, f)));
  return h.digest('hex');
}

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureInstalled() {
  const stamp = join(root, 'node_modules', '.switchboard-install');
  const want = hashOf(['package.json', 'package-lock.json']);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  const lock = existsSync(join(root, 'package-lock.json'));
  run(npm, [lock ? 'ci' : 'install', '--no-audit', '--no-fund']);
  writeFileSync(stamp, want);
}

function ensureBuilt() {
  const stamp = join(root, 'dist', '.switchboard-build');
  const inputs = Math.max(
    newestMtime(join(root, 'src')),
    newestMtime(join(root, 'test')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'package.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) return;
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  writeFileSync(stamp, new Date().toISOString());
}

function ensureWebBuilt() {
  const stamp = join(root, 'dist', 'web', '.switchboard-build');
  const inputs = Math.max(
    newestMtime(join(root, 'web')),
    statSync(join(root, 'scripts', 'build-web.mjs')).mtimeMs,
    statSync(join(root, 'package.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) return;
  run(process.execPath, [join(root, 'scripts', 'build-web.mjs')]);
  writeFileSync(stamp, new Date().toISOString());
}

// The browser bundle of switchboard/client (dist/client), served by the admin server at /client/.
function ensureClientBuilt() {
  const stamp = join(root, 'dist', 'client', '.switchboard-build');
  const inputs = Math.max(
    newestMtime(join(root, 'src', 'client')),
    newestMtime(join(root, 'src', 'protocol')),
    statSync(join(root, 'scripts', 'build-client.mjs')).mtimeMs,
    statSync(join(root, 'package.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) return;
  run(process.execPath, [join(root, 'scripts', 'build-client.mjs')]);
  writeFileSync(stamp, new Date().toISOString());
}

ensureInstalled();
ensureBuilt();
ensureWebBuilt();
ensureClientBuilt();
