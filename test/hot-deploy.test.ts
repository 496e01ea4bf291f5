import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
let dir: string;

before(async () => {
  server = await startTestServer();
  dir = server.settings.servicesDir;
});
after(() => server.stop());

const invoke = (name: string, request?: unknown) => server.api('POST', `/api/services/${name}/invoke`, { request });
const deployment = async (file: string) =>
  (
    (await server.api('GET', '/api/services/deployments')).body as Array<{
      file: string;
      ok: boolean;
      error?: string;
      services: string[];
      at: string;
    }>
  ).find((d) => d.file === join(dir, file));

const adder = (greeting: string) => `
import { Service, int } from 'switchboard';
export default class Adder extends Service {
  static serviceName = 'hot.adder';
  static io = { inputRequired: [int('a'), int('b')] };
  async handle() {
    this.logger.info('adding');
    const echoed = await this.invoke('zato.helpers.echo', { sum: (this.request.input.a as number) + (this.request.input.b as number) });
    this.response.payload = { ...(echoed as object), greeting: ${JSON.stringify(greeting)} };
  }
}
`;

describe('hot deployment', () => {
  test('a file saved into the services directory goes live with no restart; editing it changes it', async () => {
    await writeFile(join(dir, 'adder.ts'), adder('v1'));
    await waitFor(async () => (await invoke('hot.adder', { a: 1, b: 2 })).status === 200, 5000, 'hot.adder to deploy');
    assert.deepEqual((await invoke('hot.adder', { a: 1, b: 2 })).body.response, { sum: 3, greeting: 'v1' });
    assert.equal((await invoke('hot.adder', { a: 1 })).body.error.field, 'b', 'SimpleIO applies');
    await writeFile(join(dir, 'adder.ts'), adder('v2'));
    await waitFor(async () => (await invoke('hot.adder', { a: 1, b: 2 })).body.response?.greeting === 'v2', 5000, 'v2');
  });

  test('a syntax error or a throw on import is reported and the previous version keeps serving', async () => {
    const before = (await deployment('adder.ts'))!.at;
    await writeFile(join(dir, 'adder.ts'), 'export default class { handle( {');
    await waitFor(async () => (await deployment('adder.ts'))?.ok === false, 5000, 'the failure to be reported');
    const failed = (await deployment('adder.ts'))!;
    assert.match(failed.error!, /Expected|Unexpected|error/i);
    assert.deepEqual(failed.services, ['hot.adder'], 'the old version is still deployed');
    assert.equal((await invoke('hot.adder', { a: 2, b: 2 })).body.response.sum, 4);
    assert.notEqual(failed.at, before);
    await writeFile(join(dir, 'adder.ts'), `throw new Error('boom at import');\n${adder('v3')}`);
    await waitFor(async () => /boom at import/.test((await deployment('adder.ts'))?.error ?? ''), 5000, 'the import failure');
    assert.equal((await invoke('hot.adder', { a: 2, b: 3 })).body.response.sum, 5);
  });

  test('deleting a file undeploys its services', async () => {
    await writeFile(
      join(dir, 'temp.ts'),
      `import { Service } from 'switchboard';\nexport class Temp extends Service { static serviceName = 'hot.temp'; handle() { this.response.payload = 1; } }\n`,
    );
    await waitFor(async () => (await invoke('hot.temp')).status === 200, 5000, 'hot.temp');
    await rm(join(dir, 'temp.ts'));
    await waitFor(async () => (await invoke('hot.temp')).status === 404, 5000, 'hot.temp to be undeployed');
  });

  test('a name another file already deploys is refused; the first file keeps it', async () => {
    await writeFile(
      join(dir, 'first.ts'),
      `import { Service } from 'switchboard';\nexport class A extends Service { static serviceName = 'hot.shared'; handle() { this.response.payload = 'first'; } }\n`,
    );
    await waitFor(async () => (await invoke('hot.shared')).body.response === 'first', 5000, 'first');
    await writeFile(
      join(dir, 'second.ts'),
      `import { Service } from 'switchboard';\nexport class B extends Service { static serviceName = 'hot.shared'; handle() { this.response.payload = 'second'; } }\n`,
    );
    await waitFor(async () => (await deployment('second.ts'))?.ok === false, 5000, 'the duplicate to be refused');
    assert.match((await deployment('second.ts'))!.error!, /already deployed from .*first\.ts/);
    assert.equal((await invoke('hot.shared')).body.response, 'first');
  });

  test('.js files, sub-folders, relative imports, and default names (<file>.<kebab-class>)', async () => {
    await mkdir(join(dir, 'billing'), { recursive: true });
    await writeFile(join(dir, 'billing', 'rates.js'), 'export const RATE = 0.25;\n');
    await writeFile(
      join(dir, 'billing', 'invoices.js'),
      `import { Service } from 'switchboard';\nimport { RATE } from './rates.js';\nexport class ComputeTax extends Service { handle() { this.response.payload = { tax: this.request.payload.amount * RATE }; } }\n`,
    );
    await waitFor(
      async () => (await invoke('invoices.compute-tax', { amount: 100 })).status === 200,
      5000,
      'invoices.compute-tax',
    );
    assert.deepEqual((await invoke('invoices.compute-tax', { amount: 100 })).body.response, { tax: 25 });
  });

  test('a file that exports no service is reported', async () => {
    await writeFile(join(dir, 'nothing.ts'), 'export const x = 1;\n');
    await waitFor(async () => (await deployment('nothing.ts'))?.ok === false, 5000, 'the report');
    assert.match((await deployment('nothing.ts'))!.error!, /exports no class extending Service/);
  });
});

describe('hot deployment at start-up', () => {
  test('files present when the server starts are deployed before it answers', async () => {
    const base = await mkdtemp(join(tmpdir(), 'switchboard-startup-'));
    await mkdir(join(base, 'services'), { recursive: true });
    await writeFile(
      join(base, 'services', 'ready.ts'),
      `import { Service } from 'switchboard';\nexport default class Ready extends Service { static serviceName = 'startup.ready'; handle() { this.response.payload = 'yes'; } }\n`,
    );
    const started = await startTestServer({ dataDir: join(base, 'data'), servicesDir: join(base, 'services') });
    try {
      assert.equal((await started.api('POST', '/api/services/startup.ready/invoke', {})).body.response, 'yes');
    } finally {
      await started.stop();
      await rm(base, { recursive: true, force: true });
    }
  });
});
