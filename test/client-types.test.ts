// The types a user's TypeScript sees for `switchboard/client`: a browser build (the `browser` condition, as bundlers
// resolve it) gets the browser entry's types, without Node's options; Node gets the Node entry's (headers, basic auth).
// A project inside this package's dist/ resolves `switchboard/client` to the package itself, as in a user's project.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const OUT = join(ROOT, 'dist', 'test', 'client-types');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

after(() => rm(OUT, { recursive: true, force: true }));

const NODE_ONLY = `import { connectPlain } from 'switchboard/client';
void connectPlain('ws://127.0.0.1:1/p', { headers: { a: 'b' }, username: 'u', secret: 's' });
`;
const BOTH = `import { connect, AuthError } from 'switchboard/client';
void connect('ws://127.0.0.1:1/p', { username: 'u', secret: 's' }).catch((e: unknown) => e instanceof AuthError);
`;

async function typecheck(name: string, options: Record<string, unknown>, source: string): Promise<string> {
  const dir = join(OUT, name);
  await mkdir(dir, { recursive: true });
  // .mts: an ES module without a package.json of its own, whose nearest one is this package's (self-reference).
  await writeFile(join(dir, 'a.mts'), source);
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: true, ...options };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['a.mts'] }));
  try {
    await run(process.execPath, [TSC, '-p', dir]);
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

const browser = {
  module: 'esnext',
  moduleResolution: 'bundler',
  customConditions: ['browser'],
  lib: ['es2022', 'dom'],
  types: [],
};
const node = { module: 'node16', moduleResolution: 'node16', types: ['node'] };

test('switchboard/client: a browser build gets the browser types, Node the Node ones', { timeout: 120_000 }, async () => {
  assert.equal(await typecheck('node-only-on-node', node, NODE_ONLY), '');
  assert.equal(await typecheck('both-on-node', node, BOTH), '');
  assert.equal(await typecheck('both-in-browser', browser, BOTH), '');
  assert.match(await typecheck('node-only-in-browser', browser, NODE_ONLY), /'headers' does not exist in type 'PlainOptions'/);
});
