// The settings loader: defaults (in SettingsSchema), switchboard.config.json, the environment, then overrides; each
// value converted and checked by the schema's type in one place, so every refusal names its setting alike.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fillDefaults } from '../config-schema/index.js';
import { envName, SettingsSchema, type Settings } from './settings-schema.js';

export { envName, SettingsSchema, type Settings } from './settings-schema.js';

type Key = keyof typeof SettingsSchema.properties;
const KEYS = Object.keys(SettingsSchema.properties) as Key[];
const SCHEMAS: Readonly<Record<string, TSchema>> = SettingsSchema.properties;

function readConfigFile(cwd: string): Record<string, unknown> {
  const file = join(cwd, 'switchboard.config.json');
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${file} must hold a JSON object of settings`);
  // A misspelt key would otherwise be ignored in silence, and its default used instead of what was meant.
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(SCHEMAS, key));
  if (unknown.length)
    throw new Error(`${file}: unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${KEYS.join(', ')})`);
  return parsed as Record<string, unknown>;
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  1: true,
  true: true,
  yes: true,
  on: true,
  0: false,
  false: false,
  no: false,
  off: false,
};

/** Text (from the environment, or a string in the file) as the setting's type; what cannot be is left for `check`. */
function fromText(schema: TSchema, text: string): unknown {
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) return text.trim() === '' ? Number.NaN : Number(text);
  if (KindGuard.IsBoolean(schema)) return BOOLEAN_WORDS[text.trim().toLowerCase()] ?? text;
  if (KindGuard.IsArray(schema)) return text.split(',');
  return text;
}

/** A value the schema refuses is an error naming the setting and saying what it takes. */
function check(key: string, value: unknown, raw: unknown): void {
  const schema = SCHEMAS[key]!;
  if (Value.Check(schema, value)) return;
  const s = schema as TSchema & { minimum?: number; maximum?: number };
  const got = typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (KindGuard.IsInteger(s) || KindGuard.IsNumber(s)) {
    throw new Error(
      `${key} must be a ${KindGuard.IsInteger(s) ? 'whole number' : 'number'} from ${s.minimum} to ${s.maximum} (got ${got})`,
    );
  }
  if (KindGuard.IsBoolean(s)) throw new Error(`${key} must be true or false (got ${got})`);
  if (KindGuard.IsArray(s)) {
    const item: unknown = Array.isArray(value) ? (value as unknown[]).find((v) => typeof v !== 'string') : value;
    throw new Error(`${key} must be a list of host names (got ${JSON.stringify(item)})`);
  }
  throw new Error(`${key} must be a string${KindGuard.IsString(s) && s.minLength ? ' (not empty)' : ''}`);
}

/** One setting from its layers: an override as given, else the environment's text, else the file's value. */
function pick(key: Key, overrides: Partial<Settings>, env: NodeJS.ProcessEnv, file: Record<string, unknown>): unknown {
  const given = (overrides as Record<string, unknown>)[key];
  const envText = env[envName(key)];
  // An empty variable is unset (`SWITCHBOARD_ADMIN_TOKEN= npm start`), and so is an empty string in the file.
  const raw = given ?? (envText === '' ? undefined : envText) ?? (file[key] === '' ? undefined : file[key]);
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' ? fromText(SCHEMAS[key]!, raw) : raw;
  check(key, value, raw);
  return Array.isArray(value) ? value.map((item: string) => item.trim()).filter((item) => item !== '') : value;
}

/**
 * Settings from, lowest precedence first: defaults, `switchboard.config.json` in `cwd`, environment
 * variables, then `overrides`. Relative paths are resolved against `cwd`.
 */
export function loadSettings(
  overrides: Partial<Settings> = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Settings {
  const file = readConfigFile(cwd);
  const given: Record<string, unknown> = {};
  for (const key of KEYS) given[key] = pick(key, overrides, env, file);
  const s = fillDefaults(SettingsSchema, given);
  // Node refuses a headers timeout longer than the request timeout; say so in our words, at start-up.
  if (s.adminHeadersTimeoutMs > s.adminRequestTimeoutMs) {
    throw new Error(
      `adminHeadersTimeoutMs (${s.adminHeadersTimeoutMs}) must not exceed adminRequestTimeoutMs (${s.adminRequestTimeoutMs})`,
    );
  }
  // One file alone would serve plain HTTP where HTTPS was meant.
  if ((s.adminTlsCert === undefined) !== (s.adminTlsKey === undefined)) {
    const [given, missing] = s.adminTlsCert === undefined ? ['adminTlsKey', 'adminTlsCert'] : ['adminTlsCert', 'adminTlsKey'];
    throw new Error(`${given} is set but ${missing} is not: HTTPS for the admin needs both (${envName(missing)})`);
  }
  const dataDir = resolve(cwd, s.dataDir);
  return {
    ...s,
    dataDir,
    db: resolveDb(cwd, dataDir, s.db),
    servicesDir: resolve(cwd, s.servicesDir),
    secretKeyFile: s.secretKeyFile === undefined ? undefined : resolve(cwd, s.secretKeyFile),
    adminTlsCert: s.adminTlsCert === undefined ? undefined : resolve(cwd, s.adminTlsCert),
    adminTlsKey: s.adminTlsKey === undefined ? undefined : resolve(cwd, s.adminTlsKey),
  };
}

/** A SQLite path resolved against `cwd`; a `postgres://` URL as given. */
function resolveDb(cwd: string, dataDir: string, db: string | undefined): string {
  if (db !== undefined && /^postgres(ql)?:\/\//i.test(db)) return db;
  return resolve(cwd, db ?? join(dataDir, 'switchboard.db'));
}
