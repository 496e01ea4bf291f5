// Every shell example of docs/security.md runs, in order, against a real server: an example that does not run is a
// bug. What a reader's machine has and a test's does not is substituted: the certificate paths (made here with
// openssl), fixed ports (free ones), and `npx switchboard` / `npm start` (this checkout's CLI and server).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSigned } from './helpers/tls-certs.js';
import { freePort, startTestServer, TEST_TOKEN, type TestServer } from './helpers/server.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
let server: TestServer;
let dir: string;
let shims: string;
let adminTlsPort: number;

/** The fenced `sh` blocks of a Markdown file, with the line each starts on. */
async function shellBlocks(file: string): Promise<Array<{ line: number; code: string }>> {
  const lines = (await readFile(join(root, file), 'utf8')).split('\n');
  const blocks: Array<{ line: number; code: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

before(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'sb-docs-security-'));
  shims = join(dir, 'bin');
  await mkdir(shims);
  await mkdir(join(dir, 'tls'));
  const cert = selfSigned(join(dir, 'tls'), 'server');
  await writeFile(join(dir, 'tls', 'server.pem'), await readFile(cert.certFile));
  await writeFile(join(dir, 'tls', 'server.key'), await readFile(cert.keyFile));
  adminTlsPort = await freePort();
  // `npx switchboard …` is this checkout's CLI; `npm start` starts this checkout's server in the background (a
  // reader runs it in a terminal of its own) and returns once its admin API answers.
  await writeFile(
    join(shims, 'npx'),
    `#!/bin/sh\n[ "$1" = switchboard ] || exit 97\nshift\nexec "${process.execPath}" "${join(root, 'bin', 'switchboard.js')}" "$@"\n`,
  );
  await writeFile(
    join(shims, 'npm'),
    [
      '#!/bin/sh',
      '[ "$1" = start ] || exit 97',
      `"${process.execPath}" "${join(root, 'dist', 'src', 'server', 'main.js')}" > "$PWD/server.log" 2>&1 &`,
      'echo $! > "$PWD/server.pid"',
      `for i in $(seq 1 100); do curl -skf https://127.0.0.1:${adminTlsPort}/api/health >/dev/null && exit 0; sleep 0.1; done`,
      'cat "$PWD/server.log" >&2; exit 1',
      '',
    ].join('\n'),
  );
  await chmod(join(shims, 'npx'), 0o755);
  await chmod(join(shims, 'npm'), 0o755);
});

after(async () => {
  const pid = await readFile(join(dir, 'server.pid'), 'utf8').catch(() => '');
  if (pid) process.kill(Number(pid), 'SIGTERM');
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function bash(code: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-euo', 'pipefail', '-c', code], { cwd: dir, env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('every shell example of docs/security.md runs, and makes what it says', async () => {
  const ports = new Map<string, number>();
  const blocks = await shellBlocks('docs/security.md');
  assert.ok(blocks.length >= 5, `the sh examples (${blocks.length})`);
  const env = {
    PATH: `${shims}:${process.env.PATH ?? ''}`,
    HOME: dir,
    ADMIN: server.adminUrl,
    TOKEN: TEST_TOKEN,
    SWITCHBOARD_ADMIN_URL: server.adminUrl,
    SWITCHBOARD_ADMIN_TOKEN: TEST_TOKEN,
  };
  for (const block of blocks) {
    let code = block.code.replaceAll('/etc/switchboard/tls/', `${dir}/tls/`);
    for (const fixed of new Set(code.match(/(?<=:)4\d{4}(?=\/)/g) ?? [])) {
      if (!ports.has(fixed)) ports.set(fixed, await freePort());
      code = code.replaceAll(`:${fixed}/`, `:${ports.get(fixed)!}/`);
    }
    // The example that starts a server of its own talks to that one, with the token it wrote into its data directory.
    const own = code.includes('npm start');
    const blockEnv = own
      ? {
          PATH: env.PATH,
          HOME: dir,
          SWITCHBOARD_DATA_DIR: join(dir, 'data'),
          SWITCHBOARD_ADMIN_PORT: String(adminTlsPort),
          SWITCHBOARD_DEMO: '0',
        }
      : env;
    const run = await bash(code, blockEnv);
    const where = `docs/security.md:${block.line}\n${code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
    assert.equal(run.code, 0, where);
    assert.doesNotMatch(run.stdout, /"error"\s*:/, where);
  }

  const names = async (path: string) => ((await server.api('GET', path)).body as Array<{ name: string }>).map((o) => o.name);
  const channels = await names('/api/channels/wsx');
  for (const name of ['orders', 'api', 'shop']) assert.ok(channels.includes(name), `channel ${name} (${channels.join(', ')})`);
  const security = await names('/api/security');
  for (const name of ['tokens', 'idp', 'shop']) assert.ok(security.includes(name), `security ${name}`);
  const orders = (await server.api('GET', '/api/channels/wsx/orders')).body as Record<string, unknown>;
  assert.equal(orders.messageRate, 50);
  assert.equal((await server.api('GET', '/api/channels/wsx/shop')).body.runtime.topics, 'restricted');
});
