#!/usr/bin/env node
// The `switchboard` command: the admin API from the shell.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('switchboard is not built yet: run `npm start` (or `npm run build`) in the project first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
