#!/usr/bin/env node
// The `switchboard` command: the admin API from the shell. Build first (npm start or npm run build).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
