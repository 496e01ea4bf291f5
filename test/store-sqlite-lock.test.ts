// One server per SQLite file: a second `main.js` on the same data directory exits with a message naming the file
// while the first keeps serving, and after `kill -9` of the first a new server starts on the same file.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Store } from '../src/store/index.js';
import { freePort } from './helpers/server.js';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'src', 'server', 'main.js');
const children = new Set<ChildProcess>();
const dirs: string[] = [];

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Launched {
  readonly child: ChildProcess;
  readonly adminPort: number;
  /** Everything the process wrote, so far. */
  output(): string;
  exited: Promise<number | null>;
}

async function launch(dir: string): Promise<Launched> {
  const adminPort = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: dir,
    env: {
      ...process.env,
      SWITCHBOARD_DATA_DIR: dir,
      SWITCHBOARD_SERVICES_DIR: join(dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: String(adminPort),
      SWITCHBOARD_DEMO: '0',
      SWITCHBOARD_ADMIN_TOKEN: 'lock-test-admin-token-0123456',
      SWITCHBOARD_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  return { child, adminPort, output: () => text, exited };
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
  } catch {
    return false;
  }
}

async function waitUntilServing(server: Launched): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await healthy(server.adminPort))) {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}: ${server.output()}`);
    if (Date.now() > deadline) throw new Error(`server not serving after 20 s: ${server.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a second server on the same SQLite file is refused; after kill -9 of the first a new one starts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-lock-'));
  dirs.push(dir);
  const first = await launch(dir);
  await waitUntilServing(first);

  const second = await launch(dir);
  const code = await second.exited;
  assert.notEqual(code, 0, 'the second server exits non-zero');
  const db = join(dir, 'switchboard.db');
  assert.ok(
    second.output().includes(`The database ${db} is in use by another Switchboard server (pid ${first.child.pid})`),
    second.output(),
  );
  assert.ok(await healthy(first.adminPort), 'the first server keeps serving');

  first.child.kill('SIGKILL');
  await first.exited;
  const third = await launch(dir);
  await waitUntilServing(third);
  third.child.kill('SIGTERM');
  assert.equal(await third.exited, 0);
});

test('stores of one process share the file; a closed store frees it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-lock-'));
  dirs.push(dir);
  const path = join(dir, 'db.sqlite');
  const one = await Store.open({ path });
  const two = await Store.open({ path });
  await one.setMeta('k', 'v');
  assert.equal(await two.getMeta('k'), 'v');
  await one.close();
  await two.close();
  // Another process can take it now: the lock was released with the last store.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { Store } = await import(${JSON.stringify(new URL('../src/store/index.js', import.meta.url).href)}); const s = await Store.open({ path: ${JSON.stringify(path)} }); console.log(await s.getMeta('k')); await s.close();`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.equal(out.trim(), 'v');
});
