#!/usr/bin/env node
// Builds the browser bundle of switchboard/client (src/client/index.ts, the browser entry) into
// dist/client/switchboard-client.js: one ES module for browsers, minified, with a source map. The admin server
// serves it at /client/switchboard-client.js. A Node built-in reached from the entry fails the build: the bundle
// must run in a browser as it is.
import { mkdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'client');
const nodeOnly = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'ws']);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { 'switchboard-client': join(root, 'src', 'client', 'index.ts') },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  logLevel: 'warning',
  plugins: [
    {
      name: 'no-node-code',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (nodeOnly.has(args.path)) return { errors: [{ text: `${args.path} (from ${args.importer}) is Node-only` }] };
          return undefined;
        });
      },
    },
  ],
});
console.log(`[build-client] ${join(out, 'switchboard-client.js')}`);
