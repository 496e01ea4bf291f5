// The examples of docs/client.md run: every ```js block is written to a file inside this package (so that
// `import … from 'switchboard/client'` resolves to the package's own export, as in a user's project) and run with
// Node against a real server with the demo channels; what each `// prints: …` comment says must be in its output.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const OUT = join(ROOT, 'dist', 'test', 'doc-examples');

let server: TestServer;
let demoPort: number;

before(async () => {
  demoPort = await freePort();
  server = await startTestServer({ demo: true, demoPort });
  // The topic that the doc's `switchboard topic create` line makes.
  assert.equal((await server.api('POST', '/api/pubsub/topics', { name: '/orders/new' })).status, 201);
  await mkdir(OUT, { recursive: true });
});
after(async () => {
  await server.stop();
  await rm(OUT, { recursive: true, force: true });
});

/** The ```js blocks of a Markdown text, with the line each starts on. */
function jsBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  for (const m of markdown.matchAll(/^```js\n([\s\S]*?)^```$/gm))
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[1]! });
  return blocks;
}

test('every js example of docs/client.md runs against a real server and prints what it says', async () => {
  const blocks = jsBlocks(await readFile(join(ROOT, 'docs', 'client.md'), 'utf8'));
  assert.ok(blocks.length >= 6, `only ${blocks.length} examples found`);
  for (const [i, block] of blocks.entries()) {
    const code = block.code
      .replaceAll('ws://127.0.0.1:17011', `ws://127.0.0.1:${demoPort}`)
      .replaceAll('http://127.0.0.1:17010', server.adminUrl);
    const file = join(OUT, `client-${i + 1}.mjs`);
    await writeFile(file, code);
    const { stdout, stderr } = await run(process.execPath, [file], {
      env: { ...process.env, SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN },
      timeout: 20_000,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`docs/client.md:${block.line} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    assert.equal(stderr, '', `docs/client.md:${block.line} wrote to stderr`);
    const promised = [...block.code.matchAll(/\/\/ prints: (.+)$/gm)].map((m) => m[1]!.trim());
    assert.ok(promised.length > 0, `docs/client.md:${block.line} says nothing it prints`);
    for (const text of promised) assert.ok(stdout.includes(text), `docs/client.md:${block.line}: "${text}" not in:\n${stdout}`);
  }
});
