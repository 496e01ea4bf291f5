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
  /** Seed a new database with the demo channels. */
  demo: boolean;
  /** The port of the demo channels. */
  demoPort: number;
  /**
   * Heap in use, as a fraction of V8's heap limit, above which new WebSocket connections are refused with 503
   * `server_overloaded` (sampled every second); 0 turns the guard off.
   */
  memoryGuardFraction: number;
  /** Seconds a client may take to send a channel port its complete HTTP headers before a 408 and a close. */
  channelHeadersTimeout: number;
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
  demo: 'SWITCHBOARD_DEMO',
  demoPort: 'SWITCHBOARD_DEMO_PORT',
  memoryGuardFraction: 'SWITCHBOARD_MEMORY_GUARD_FRACTION',
  channelHeadersTimeout: 'SWITCHBOARD_CHANNEL_HEADERS_TIMEOUT',
};

function readConfigFile(cwd: string): FileSettings {
  const file = join(cwd, 'switchboard.config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FileSettings;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function toPort(name: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (got ${value})`);
  return n;
}

function toNumber(name: string, value: string | number, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number from ${min} to ${max} (got ${value})`);
  return n;
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
  return {
    dataDir,
    db: resolve(cwd, String(pick('db') ?? join(dataDir, 'switchboard.db'))),
    servicesDir: resolve(cwd, String(pick('servicesDir') ?? './services')),
    adminHost: String(pick('adminHost') ?? '127.0.0.1'),
    adminPort: toPort('adminPort', pick('adminPort') ?? 17010),
    adminToken: (pick('adminToken') as string | undefined) || undefined,
    adminUser: (pick('adminUser') as string | undefined) || undefined,
    adminPassword: (pick('adminPassword') as string | undefined) || undefined,
    demo: !(demo === false || demo === '0' || demo === 'false'),
    demoPort: toPort('demoPort', pick('demoPort') ?? 17011),
    memoryGuardFraction: toNumber('memoryGuardFraction', pick('memoryGuardFraction') ?? 0.85, 0, 1),
    // Above 0 so that a slow-header client is always dropped; 300 s is Node's own request timeout.
    channelHeadersTimeout: toNumber('channelHeadersTimeout', pick('channelHeadersTimeout') ?? 10, 0.1, 300),
  };
}
