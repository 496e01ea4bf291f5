#!/usr/bin/env node
// `npm run bench -- <case> [--flag value ...]`: runs one benchmark case (bench/<case>/index.mjs).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFlags } from './lib/flags.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CASES = ['echo', 'outgoing', 'pubsub', 'backlog', 'cluster', 'micro', 'connections', 'compression'];
const [name, ...rest] = process.argv.slice(2);

if (!name || !CASES.includes(name)) {
  console.error(`Usage: npm run bench -- <${CASES.join('|')}> [--flag value ...]   (see bench/README.md)`);
  process.exit(2);
}
const opts = parseFlags(rest);
const entry = join(here, name, 'index.mjs');
if (!existsSync(entry)) throw new Error(`No benchmark at ${entry}`);
const { run } = await import(pathToFileURL(entry).href);
await run(opts);
process.exit(0);
