#!/usr/bin/env node
// Builds the web admin (web/) into dist/web: type-checks it, bundles web/src/main.tsx with esbuild (Preact,
// minified, one script and one style sheet), and copies index.html. The admin server serves dist/web at /.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'web', 'tsconfig.json')],
  { stdio: 'inherit' },
);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: join(root, 'web', 'src', 'main.tsx'), 'app-style': join(root, 'web', 'src', 'styles.css') },
  outdir: join(out, 'assets'),
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
});
// esbuild names a CSS entry after its key; the page links app.css.
copyFileSync(join(out, 'assets', 'app-style.css'), join(out, 'assets', 'app.css'));
rmSync(join(out, 'assets', 'app-style.css'));
rmSync(join(out, 'assets', 'app-style.css.map'), { force: true });
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
console.log(`[build-web] ${out}`);
