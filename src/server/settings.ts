import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Everything a server needs to start (DESIGN.md §9). */
export interface Settings {
  /** Where the database, the admin token and compiled services live. */
  dataDir: string;
  /** A SQLite file path (default `$dataDir/switchboard.db`). */
  db: string;
  /** The hot-deployed services directory. */
  servicesDir: string;
  adminHost: string;
  /** 0 picks a free port. */
  adminPort: number;
  /** The admin API bearer token; generated into `$dataDir/admin-token` when not set. */
  adminToken: string | undefined;
  /** An optional web admin user (with `adminPassword`), besides logging in with the token. */
  adminUser: string | undefined;
  adminPassword: string | undefined;
  /**
   * Extra `Host` header names the admin answers to, besides its own address, `localhost`, `127.0.0.1` and `[::1]`
   * (a reverse proxy's public name, for instance); `*` allows any. Requests naming another host are refused (421).
   */
  adminAllowedHosts: string[];
  /** Milliseconds a client has to send a request's headers before the admin answers 408 and closes. */
  adminHeadersTimeoutMs: number;
  /** Milliseconds a client has to send a whole request (headers and body) before the admin answers 408. */
  adminRequestTimeoutMs: number;
  /** The largest admin API request body in bytes; larger is 413 `body_too_large`. */
  adminBodyLimit: number;
  /** Failed credentials (logins, bearer tokens, session cookies) one address may present per minute before 429. */
  adminAuthFailureLimit: number;
  /** Seed a new database with the demo channels. */
  demo: boolean;
  /** The port of the demo channels. */
  demoPort: number;
  /** A service file whose import (its top level) has not settled after this long is reported as failed (ms). */
  deployTimeoutMs: number;
  /** The event loop blocked this long is logged, naming the service that ran (ms); 0 turns the watchdog off. */
  stallWarnMs: number;
  /** The event loop blocked this long kills the process (SIGKILL) for a supervisor to restart it (ms); 0: never. */
  stallExitMs: number;
  /**
   * Blame errors that escape services on the exact service, through AsyncLocalStorage (costs about 0.5 µs per
   * invocation); off, they are blamed by their stack trace on the hot-deployed file and, when it can tell, service.
   */
  serviceScopes: boolean;
  /**
   * The AES-256 key that encrypts stored credentials for outgoing connections: 64 hex characters or base64 of
   * 32 bytes. Wins over `secretKeyFile`. Best given as `SWITCHBOARD_SECRET_KEY`, not in the config file.
   */
  secretKey: string | undefined;
  /** A file holding that key (it must exist); unset: `$dataDir/secret-key`, generated (mode 0600) on first start. */
  secretKeyFile: string | undefined;
  /**
   * Heap in use, as a fraction of V8's heap limit, above which new WebSocket connections are refused with 503
   * `server_overloaded` (sampled every second); 0 turns the guard off.
   */
  memoryGuardFraction: number;
  /** Milliseconds a client may take to send a channel port its complete HTTP headers before a 408 and a close. */
  channelHeadersTimeoutMs: number;
}

/** The keys `switchboard.config.json` may hold (the same names as `Settings`). */
type FileSettings = Partial<Settings>;

const ENV: Record<keyof Settings, string> = {
  dataDir: 'SWITCHBOARD_DATA_DIR',
  db: 'SWITCHBOARD_DB',
  servicesDir: 'SWITCHBOARD_SERVICES_DIR',
  adminHost: 'SWITCHBOARD_ADMIN_HOST',
  adminPort: 'SWITCHBOARD_ADMIN_PORT',
  adminToken: 'SWITCHBOARD_ADMIN_TOKEN',
  adminUser: 'SWITCHBOARD_ADMIN_USER',
  adminPassword: 'SWITCHBOARD_ADMIN_PASSWORD',
  adminAllowedHosts: 'SWITCHBOARD_ADMIN_ALLOWED_HOSTS',
  adminHeadersTimeoutMs: 'SWITCHBOARD_ADMIN_HEADERS_TIMEOUT_MS',
  adminRequestTimeoutMs: 'SWITCHBOARD_ADMIN_REQUEST_TIMEOUT_MS',
  adminBodyLimit: 'SWITCHBOARD_ADMIN_BODY_LIMIT',
  adminAuthFailureLimit: 'SWITCHBOARD_ADMIN_AUTH_FAILURE_LIMIT',
  demo: 'SWITCHBOARD_DEMO',
  demoPort: 'SWITCHBOARD_DEMO_PORT',
  deployTimeoutMs: 'SWITCHBOARD_DEPLOY_TIMEOUT_MS',
  stallWarnMs: 'SWITCHBOARD_STALL_WARN_MS',
  stallExitMs: 'SWITCHBOARD_STALL_EXIT_MS',
  serviceScopes: 'SWITCHBOARD_SERVICE_SCOPES',
  secretKey: 'SWITCHBOARD_SECRET_KEY',
  secretKeyFile: 'SWITCHBOARD_SECRET_KEY_FILE',
  memoryGuardFraction: 'SWITCHBOARD_MEMORY_GUARD_FRACTION',
  channelHeadersTimeoutMs: 'SWITCHBOARD_CHANNEL_HEADERS_TIMEOUT_MS',
};

function readConfigFile(cwd: string): FileSettings {
  const file = join(cwd, 'switchboard.config.json');
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object of settings`);
  // A misspelt key would otherwise be ignored in silence, and its default used instead of what was meant.
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(ENV, key));
  if (unknown.length) throw new Error(`${file}: unknown setting ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${Object.keys(ENV).join(', ')})`);
  return parsed as FileSettings;
}

/**
 * A number from the environment (a string) or the config file (a number), within `min`..`max`; whole unless
 * `fraction` is set. Every numeric setting is read through this, so each refusal names the setting alike.
 */
function toNumber(name: string, value: string | number, min: number, max: number, fraction = false): number {
  const n = Number(value);
  const ok = (fraction ? Number.isFinite(n) : Number.isSafeInteger(n)) && n >= min && n <= max;
  if (!ok) throw new Error(`${name} must be a ${fraction ? 'number' : 'whole number'} from ${min} to ${max} (got ${value})`);
  return n;
}

// Node's timers take at most 2^31 - 1 ms.
const MAX_MS = 2_147_483_647;

/** A secret: a string or nothing (a number in the config file is a mistake, not a token). */
function toSecret(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${name} must be a string`);
  return value;
}

/** A list from the environment (comma-separated) or the config file (an array or a comma-separated string). */
function toList(name: string, value: string | readonly unknown[] | undefined): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  return items.map((item) => {
    if (typeof item !== 'string') throw new Error(`${name} must be a list of host names (got ${JSON.stringify(item)})`);
    return item.trim();
  }).filter((item) => item !== '');
}

function optionalPath(cwd: string, value: string | number | boolean | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : resolve(cwd, String(value));
}


/**
 * Settings from, lowest precedence first: defaults, `switchboard.config.json` in `cwd`, environment
 * variables, then `overrides`. Relative paths are resolved against `cwd`.
 */
export function loadSettings(overrides: Partial<Settings> = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const file = readConfigFile(cwd);
  const pick = <K extends keyof Settings>(key: K): Settings[K] | string | undefined => overrides[key] ?? env[ENV[key]] ?? file[key];
  const dataDir = resolve(cwd, String(pick('dataDir') ?? './data'));
  const demo = pick('demo');
  const scopes = pick('serviceScopes');
  const headersTimeout = toNumber('adminHeadersTimeoutMs', pick('adminHeadersTimeoutMs') ?? 10_000, 1, MAX_MS);
  const requestTimeout = toNumber('adminRequestTimeoutMs', pick('adminRequestTimeoutMs') ?? 30_000, 1, MAX_MS);
  // Node refuses a headers timeout longer than the request timeout; say so in our words, at start-up.
  if (headersTimeout > requestTimeout) throw new Error(`adminHeadersTimeoutMs (${headersTimeout}) must not exceed adminRequestTimeoutMs (${requestTimeout})`);
  return {
    dataDir,
    db: resolve(cwd, String(pick('db') ?? join(dataDir, 'switchboard.db'))),
    servicesDir: resolve(cwd, String(pick('servicesDir') ?? './services')),
    adminHost: String(pick('adminHost') ?? '127.0.0.1'),
    adminPort: toNumber('adminPort', pick('adminPort') ?? 17010, 0, 65535),
    adminToken: toSecret('adminToken', pick('adminToken')),
    adminUser: (pick('adminUser') as string | undefined) || undefined,
    adminPassword: (pick('adminPassword') as string | undefined) || undefined,
    adminAllowedHosts: toList('adminAllowedHosts', pick('adminAllowedHosts') as string | readonly unknown[] | undefined),
    adminHeadersTimeoutMs: headersTimeout,
    adminRequestTimeoutMs: requestTimeout,
    adminBodyLimit: toNumber('adminBodyLimit', pick('adminBodyLimit') ?? 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER),
    adminAuthFailureLimit: toNumber('adminAuthFailureLimit', pick('adminAuthFailureLimit') ?? 10, 1, Number.MAX_SAFE_INTEGER),
    demo: !(demo === false || demo === '0' || demo === 'false'),
    demoPort: toNumber('demoPort', pick('demoPort') ?? 17011, 0, 65535),
    deployTimeoutMs: toNumber('deployTimeoutMs', pick('deployTimeoutMs') ?? 10_000, 0, MAX_MS),
    stallWarnMs: toNumber('stallWarnMs', pick('stallWarnMs') ?? 1000, 0, MAX_MS),
    stallExitMs: toNumber('stallExitMs', pick('stallExitMs') ?? 0, 0, MAX_MS),
    serviceScopes: scopes === true || scopes === '1' || scopes === 'true',
    secretKey: (pick('secretKey') as string | undefined) || undefined,
    secretKeyFile: optionalPath(cwd, pick('secretKeyFile')),
    memoryGuardFraction: toNumber('memoryGuardFraction', pick('memoryGuardFraction') ?? 0.85, 0, 1, true),
    // Above 0 so that a slow-header client is always dropped; 300 s is Node's own request timeout.
    channelHeadersTimeoutMs: toNumber('channelHeadersTimeoutMs', pick('channelHeadersTimeoutMs') ?? 10_000, 100, 300_000),
  };
}
