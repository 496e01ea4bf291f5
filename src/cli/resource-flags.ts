// A resource's generated flags as parseArgs options, as an API body, and as help text.
import type { ParseArgsConfig } from 'node:util';
import { LEGACY_SWITCHES, type Resource } from './resources.js';
import { expected, literals, parseFlagValue, parseListValue, showDefault, type SchemaFlag } from './schema-flags.js';
import { UsageError } from './usage-error.js';

/** Parsed command-line values, as parseArgs gives them. */
export type Values = Record<string, string | boolean | string[] | undefined>;
/** parseArgs options. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs options for every flag of `resource` (and every alias). */
export function resourceOptions(resource: Resource): Options {
  const options: Options = {};
  for (const flag of resource.flags) {
    for (const name of [flag.flag, ...flag.aliases]) {
      options[name] = flag.kind === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: flag.kind === 'list' };
    }
    if (flag.off) options[flag.off] = { type: 'boolean' };
  }
  for (const legacy of Object.keys(LEGACY_SWITCHES)) {
    if (resource.flags.some((f) => f.off === LEGACY_SWITCHES[legacy])) options[legacy] = { type: 'boolean' };
  }
  return options;
}

/** The body fields the flags set (only those given); a nested object's flags merge into one object. */
export function bodyFromFlags(resource: Resource, values: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const flag of resource.flags) {
    const value = flagValue(flag, values);
    if (value !== undefined) setPath(body, flag.path, value);
  }
  return body;
}

function flagValue(flag: SchemaFlag, values: Values): unknown {
  if (flag.kind === 'boolean') return switchValue(flag, values);
  if (flag.kind === 'list') {
    const items = [flag.flag, ...flag.aliases].flatMap((name) => (values[name] as string[] | undefined) ?? []);
    return items.length ? parseListValue(flag, items) : undefined;
  }
  const raw = values[flag.flag];
  return typeof raw === 'string' ? parseFlagValue(flag, raw) : undefined;
}

function switchValue(flag: SchemaFlag, values: Values): boolean | undefined {
  const legacyOff = Object.keys(LEGACY_SWITCHES).filter((name) => LEGACY_SWITCHES[name] === flag.off);
  const onBy = [flag.flag, ...flag.aliases].find((name) => values[name] === true);
  const offBy = [flag.off!, ...legacyOff].find((name) => values[name] === true);
  if (onBy && offBy) throw new UsageError(`--${onBy} and --${offBy} contradict each other`);
  return onBy ? true : offBy ? false : undefined;
}

function setPath(body: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (!rest.length) {
    body[head] = value;
    return;
  }
  // The whole object's flag (`--reconnect JSON`) comes before its fields' (`--reconnect-max 5`), so the fields win.
  const inner = isPlainObject(body[head]) ? (body[head] as Record<string, unknown>) : {};
  body[head] = inner;
  setPath(inner, rest, value);
}

/** Whether a value is a JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `switchboard <noun> --help`: each flag with what it takes, its description and default, from the schema. */
export function resourceHelp(resource: Resource): string {
  const lines = [`switchboard ${resource.noun} — ${resource.plural}`, '', 'Flags for create and update:'];
  for (const flag of resource.flags) lines.push(helpLine(flag));
  lines.push(...resource.moreHelp);
  lines.push('', 'Booleans are on/off pairs; lists take one value per flag (repeat it); "none" clears a value that may be null.');
  return lines.join('\n');
}

/** One line of help: `  --ping-interval N   seconds between pings; 0: off (default 30)`. */
export function helpLine(flag: SchemaFlag): string {
  const left = flag.kind === 'boolean' ? `--${flag.flag} / --${flag.off}` : `--${flag.flag} ${metavar(flag)}`;
  const notes = [
    flag.kind === 'list' ? 'repeatable' : '',
    flag.kind === 'number' ? expected(flag) : flag.nullable ? 'or none' : '',
    flag.required ? 'required' : '',
    hasDefault(flag) ? `default ${showDefault(flag.default)}` : '',
  ].filter(Boolean);
  const description = [flag.description, notes.length ? `(${notes.join('; ')})` : ''].filter(Boolean).join(' ');
  return `  ${left.padEnd(40)} ${description}`.trimEnd();
}

// A nested object's default is `{}` (each of its fields has its own): not worth a mention.
const hasDefault = (flag: SchemaFlag): boolean =>
  'default' in flag && !(flag.kind === 'json' && isPlainObject(flag.default) && !Object.keys(flag.default).length);

function metavar(flag: SchemaFlag): string {
  if (flag.kind === 'number') return 'N';
  if (flag.kind === 'enum') return literals(flag.schema).join('|');
  if (flag.kind === 'json') return 'JSON';
  return 'TEXT';
}
