// What every command shares: the global flags, parsing, reading arguments and printing the answer.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveAdminApi, type AdminApiConnection } from './admin-api-client.js';
import { printJson } from './output.js';
import type { Options, Values } from './resource-flags.js';
import { UsageError } from './usage-error.js';

/** Flags every command takes. */
export const GLOBAL: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** parseArgs, strict, with its complaints as `UsageError`s. */
export function parse(args: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Where the admin API is, from `--url`/`--token`/`--ca` and the environment. */
export function connectionOf(values: Values): AdminApiConnection {
  return resolveAdminApi({
    url: values.url as string | undefined,
    token: values.token as string | undefined,
    ca: values.ca as string | undefined,
  });
}

/** A number given to a flag that is not a schema field (`--timeout`, `--priority`). */
export function toNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number (got ${value})`);
  return n;
}

/** JSON given to a flag; bad JSON is a usage error naming the flag. */
export function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** All of standard input. */
export function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** The first positional argument; its absence is a usage error naming `what`. */
export function one(positionals: string[], what: string): string {
  const [value] = positionals;
  if (!value) throw new UsageError(`Missing ${what}`);
  return value;
}

/** A path segment. */
export const enc = encodeURIComponent;

/** What a command prints: the API's answer as JSON with --json, else in a human form. */
export function show(values: Values, data: unknown, human: () => void): void {
  if (values.json) printJson(data);
  else human();
}

/** The request body of `invoke` verbs: `--request JSON`, `--request -` (stdin) or `--request-file FILE`. */
export function requestFrom(values: Values): unknown {
  if (typeof values['request-file'] === 'string') return parseJson('request-file', readFileSync(values['request-file'], 'utf8'));
  if (values.request === '-') return parseJson('request', readStdin());
  if (typeof values.request === 'string') return parseJson('request', values.request);
  return undefined;
}
