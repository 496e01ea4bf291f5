import { test } from 'node:test';
import type * as ClientEntry from '../src/protocol/client.js';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build, type Plugin } from 'esbuild';

// What a browser has, and nothing Node-only: the bundle must run with exactly these globals.
const BROWSER_GLOBALS = {
  crypto: globalThis.crypto,
  TextDecoder,
  TextEncoder,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  Date,
  JSON,
};
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

async function bundleClientEntry(): Promise<{ code: string; nodeImports: string[] }> {
  const nodeImports: string[] = [];
  const recordNodeImports: Plugin = {
    name: 'record-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!NODE_BUILTINS.has(args.path)) return undefined;
        nodeImports.push(`${args.path} (from ${args.importer})`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/protocol/client.js', import.meta.url))],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    globalName: 'wsx',
    // Minified so that comments do not count, only code.
    minify: true,
    logLevel: 'silent',
    plugins: [recordNodeImports],
  });
  return { code: result.outputFiles[0]!.text, nodeImports };
}

test('protocol/client.ts bundles for the browser without any Node built-in, and works there', async () => {
  const { code, nodeImports } = await bundleClientEntry();
  assert.deepEqual(nodeImports, []);
  // Free references to Node's globals survive minification by name.
  for (const nodeOnly of ['Buffer', 'process', 'setImmediate', 'require(', '__dirname'])
    assert.ok(!code.includes(nodeOnly), `the bundle uses ${nodeOnly}`);
  const context: Record<string, unknown> = { ...BROWSER_GLOBALS };
  runInNewContext(`${code};globalThis.wsx = wsx;`, context);
  const wsx = context.wsx as typeof ClientEntry;
  const frame = JSON.parse(wsx.invokeService(wsx.clientFrameId(wsx.CLIENT_ID_PREFIX.INVOKE), 'zwsxt.t', { a: 1 })) as {
    meta: { id: string; action: string };
  };
  assert.match(frame.meta.id, /^zwsxc\.inv\.[0-9a-f]{24}$/);
  assert.equal(frame.meta.action, 'invoke-service');
  const parsed = wsx.parseServerFrame('{"meta":{"in_reply_to":"q","status":200},"data":1}');
  assert.ok(parsed.ok && parsed.frame.kind === 'reply' && parsed.frame.response.data === 1);
});
