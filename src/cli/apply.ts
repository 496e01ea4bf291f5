// Config as code: `switchboard apply -f FILE` makes the server match a file, `switchboard export` writes that file.
// The diff (`planApply`) is pure, so what apply will do can be read and tested apart from the HTTP calls.
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { AdminApiError, callAdminApi, type AdminApiConnection } from './admin-api-client.js';
import { printJson } from './output.js';
import { CHANNEL, OUTGOING, SECURITY, TOPIC, type Resource } from './resources.js';

/** A mistake in the config file itself (not JSON, unknown key, entry without a name): exit 2, nothing written. */
export class ConfigFileError extends Error {}

/** One object exactly as the admin API's POST/PUT takes it. */
export type ConfigObject = Record<string, unknown> & { readonly name: string };

/** The top-level keys of a config file, in the order apply writes them (channels and outgoing use security). */
export const FILE_KEYS = ['security', 'channels', 'outgoing', 'topics'] as const;
export type FileKey = (typeof FILE_KEYS)[number];

/** A config file (or the server's config): each key optional, each a list of API bodies. */
export type ConfigFile = Partial<Record<FileKey, ConfigObject[]>>;

interface Kind {
  readonly resource: Resource;
  /** Write-only fields: the API never returns them, so they cannot be compared. */
  readonly secretFields: readonly string[];
}

const KINDS: Record<FileKey, Kind> = {
  security: { resource: SECURITY, secretFields: ['password', 'secret'] },
  channels: { resource: CHANNEL, secretFields: [] },
  outgoing: { resource: OUTGOING, secretFields: [] },
  topics: { resource: TOPIC, secretFields: [] },
};

/** One step of an apply. `key` says which kind of object (and so which API path). */
export type Action =
  | { readonly op: 'create'; readonly key: FileKey; readonly name: string; readonly body: ConfigObject }
  | {
      readonly op: 'update';
      readonly key: FileKey;
      readonly name: string;
      readonly body: ConfigObject;
      readonly fields: readonly string[];
    }
  | { readonly op: 'delete'; readonly key: FileKey; readonly name: string }
  /** `unsentSecret`: the file gives a secret for this existing definition, left alone (see `diffObject`). */
  | { readonly op: 'unchanged'; readonly key: FileKey; readonly name: string; readonly unsentSecret: boolean };

export interface PlanOptions {
  /** Delete objects of the kinds the file lists that the file does not name. */
  readonly prune: boolean;
  /** Send secrets given for existing security definitions even though nothing else changed. */
  readonly forceSecrets: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// The file

/** Reads the file (`-` is stdin); an unreadable file is the file's problem, so exit 2 too. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Parses and checks the file's shape; the fields of each entry are left for the API to validate. */
export function parseConfigFile(text: string, source: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigFileError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed))
    throw new ConfigFileError(`${source} must hold a JSON object with the keys ${FILE_KEYS.join(', ')}`);
  const file: ConfigFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!isFileKey(key))
      throw new ConfigFileError(`${source}: unknown top-level key "${key}" (expected ${FILE_KEYS.join(', ')})`);
    file[key] = entriesOf(value, key, source);
  }
  return file;
}

function entriesOf(value: unknown, key: FileKey, source: string): ConfigObject[] {
  if (!Array.isArray(value)) throw new ConfigFileError(`${source}: "${key}" must be a list`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    if (!isPlainObject(entry) || typeof entry.name !== 'string' || entry.name === '') {
      throw new ConfigFileError(`${source}: ${key}[${i}] must be an object with a "name"`);
    }
    // Objects are matched by name, so a name given twice would make the outcome depend on the order.
    if (seen.has(entry.name)) throw new ConfigFileError(`${source}: ${KINDS[key].resource.noun} "${entry.name}" appears twice`);
    seen.add(entry.name);
    return entry as ConfigObject;
  });
}

function isFileKey(key: string): key is FileKey {
  return (FILE_KEYS as readonly string[]).includes(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// The diff (pure)

/**
 * What apply does, in order: for each kind the file lists (security, channels, outgoing, topics), first deletions
 * (with `prune`, so a renamed object can take over its predecessor's address), then creates and updates, by name.
 * Security definitions are deleted last, once no channel or connection the file describes uses them any more.
 */
export function planApply(desired: ConfigFile, current: ConfigFile, options: PlanOptions): Action[] {
  const actions: Action[] = [];
  for (const key of FILE_KEYS) {
    const wanted = desired[key];
    if (!wanted) continue;
    const have = current[key] ?? [];
    if (options.prune && key !== 'security') actions.push(...deletions(key, wanted, have));
    for (const entry of sortedByName(wanted)) {
      actions.push(
        diffObject(
          key,
          entry,
          have.find((h) => h.name === entry.name),
          options.forceSecrets,
        ),
      );
    }
  }
  if (options.prune && desired.security) actions.push(...deletions('security', desired.security, current.security ?? []));
  return actions;
}

/**
 * Compares one entry of the file with the server's object. Only the fields the entry gives are compared, and an
 * update PUTs the current object with those fields merged in: a field left out of the file keeps its value.
 *
 * Secrets are write-only, so a secret in the file cannot be compared with the server's. It is sent when the
 * definition is created, or along with an update of its other fields; otherwise only with `forceSecrets` —
 * sending it every time would report every apply of the same file as a change.
 */
export function diffObject(
  key: FileKey,
  wanted: ConfigObject,
  existing: ConfigObject | undefined,
  forceSecrets: boolean,
): Action {
  const name = wanted.name;
  if (!existing) return { op: 'create', key, name, body: wanted };
  const secretFields = KINDS[key].secretFields;
  const secrets = secretFields.filter((f) => wanted[f] !== undefined);
  const fields = Object.keys(wanted).filter((f) => !secretFields.includes(f) && !covers(wanted[f], existing[f]));
  if (fields.length === 0 && (secrets.length === 0 || !forceSecrets))
    return { op: 'unchanged', key, name, unsentSecret: secrets.length > 0 };
  return { op: 'update', key, name, body: merge(existing, wanted) as ConfigObject, fields: [...fields, ...secrets] };
}

function deletions(key: FileKey, wanted: readonly ConfigObject[], have: readonly ConfigObject[]): Action[] {
  const names = new Set(wanted.map((w) => w.name));
  return sortedByName(have)
    .filter((h) => !names.has(h.name))
    .map((h) => ({ op: 'delete', key, name: h.name }));
}

/**
 * True when `have` has everything `want` says. Nested objects (an outgoing connection's `reconnect`) may give only
 * some of their fields, as the API's defaults fill in the rest; lists and plain values must be equal.
 */
export function covers(want: unknown, have: unknown): boolean {
  if (isPlainObject(want) && isPlainObject(have)) return Object.keys(want).every((k) => covers(want[k], have[k]));
  return isDeepStrictEqual(want, have);
}

/** `base` with `over`'s fields on top, nested objects merged the same way (so `reconnect.max` alone keeps the rest). */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const old = base[k];
    out[k] = isPlainObject(v) && isPlainObject(old) ? merge(old, v) : v;
  }
  return out;
}

function sortedByName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------
// The server

/** An object as the API returns it, without what the server computes live (`runtime`, `depth`): PUT takes config only. */
export function configOf(obj: Record<string, unknown>): Record<string, unknown> {
  // runtime, depth and a jwt definition's keyKind are views of the server's state, not fields one can set.
  const { runtime: _runtime, depth: _depth, keyKind: _keyKind, ...config } = obj;
  return config;
}

/** The server's objects of the given kinds, config only, sorted by name. */
export async function fetchConfig(conn: AdminApiConnection, keys: readonly FileKey[] = FILE_KEYS): Promise<ConfigFile> {
  const out: ConfigFile = {};
  for (const key of keys) {
    const rows = (await callAdminApi(conn, 'GET', KINDS[key].resource.path)) as Array<Record<string, unknown>>;
    out[key] = sortedByName(rows.map((r) => configOf(r) as ConfigObject));
  }
  return out;
}

const VERB: Record<Exclude<Action['op'], 'unchanged'>, string> = { create: 'create', update: 'update', delete: 'delete' };

/** Performs one action; an API error is re-thrown naming the object, so the user knows which entry to fix. */
export async function execute(conn: AdminApiConnection, action: Action): Promise<void> {
  if (action.op === 'unchanged') return;
  const path = KINDS[action.key].resource.path;
  const one = `${path}/${encodeURIComponent(action.name)}`;
  try {
    if (action.op === 'create') await callAdminApi(conn, 'POST', path, action.body);
    else if (action.op === 'update') await callAdminApi(conn, 'PUT', one, action.body);
    else await callAdminApi(conn, 'DELETE', one);
  } catch (err) {
    if (!(err instanceof AdminApiError)) throw err;
    const what = `${KINDS[action.key].resource.noun} ${action.name}`;
    throw new AdminApiError(err.status, err.code, `cannot ${VERB[action.op]} ${what}: ${err.message}`, err.field);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The commands

export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
}

/** What `apply --json` prints. */
export interface ApplyReport {
  readonly created: ObjectRef[];
  readonly updated: Array<ObjectRef & { readonly fields: readonly string[] }>;
  readonly deleted: ObjectRef[];
  readonly unchanged: ObjectRef[];
}

export interface ApplyOptions extends PlanOptions {
  readonly file: string;
  readonly dryRun: boolean;
  readonly verbose: boolean;
  readonly json: boolean;
}

/** `switchboard apply`: plans against the live server, then writes (unless a dry run), printing as it goes. */
export async function runApply(conn: AdminApiConnection, options: ApplyOptions): Promise<void> {
  const desired = parseConfigFile(readConfigText(options.file), options.file);
  const current = await fetchConfig(
    conn,
    FILE_KEYS.filter((k) => desired[k] !== undefined),
  );
  const actions = planApply(desired, current, options);
  const report: ApplyReport = { created: [], updated: [], deleted: [], unchanged: [] };
  try {
    for (const action of actions) {
      if (!options.dryRun) await execute(conn, action);
      record(report, action);
      if (!options.json && (action.op !== 'unchanged' || options.verbose)) console.log(describe(action));
    }
  } finally {
    // With --json, what was done before a failure is still printed, so a script knows what to clean up.
    if (options.json) printJson(report);
  }
  if (!options.json) console.log(summary(report, options.dryRun));
  for (const action of actions) {
    if (action.op === 'unchanged' && action.unsentSecret) {
      console.error(
        `note: the secret of security ${action.name} was not sent: secrets cannot be compared; --force-secrets sends it`,
      );
    }
  }
}

function record(report: ApplyReport, action: Action): void {
  const ref = { kind: KINDS[action.key].resource.noun, name: action.name };
  if (action.op === 'create') report.created.push(ref);
  else if (action.op === 'update') report.updated.push({ ...ref, fields: action.fields });
  else if (action.op === 'delete') report.deleted.push(ref);
  else report.unchanged.push(ref);
}

const PAST: Record<Action['op'], string> = { create: 'created', update: 'updated', delete: 'deleted', unchanged: 'unchanged' };

/** `created channel x`, `updated topic /t (fields: maxDepthGd)`. */
export function describe(action: Action): string {
  const line = `${PAST[action.op]} ${KINDS[action.key].resource.noun} ${action.name}`;
  return action.op === 'update' ? `${line} (fields: ${action.fields.join(', ')})` : line;
}

export function summary(report: ApplyReport, dryRun: boolean): string {
  const counts = `${report.created.length} created, ${report.updated.length} updated, ${report.deleted.length} deleted, ${report.unchanged.length} unchanged`;
  return dryRun ? `${counts} (dry run: nothing was written)` : counts;
}

/** `switchboard export`: the server's config in the file format apply takes, to stdout or to `output`. */
export async function runExport(conn: AdminApiConnection, output: string | undefined): Promise<void> {
  const config = await fetchConfig(conn);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if (output === undefined || output === '-') {
    process.stdout.write(text);
    return;
  }
  writeFileSync(output, text);
  const count = FILE_KEYS.reduce((n, k) => n + (config[k]?.length ?? 0), 0);
  console.log(`wrote ${count} objects to ${output}`);
}
