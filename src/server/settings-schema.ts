import { Type } from '@sinclair/typebox';
import { withDefault, type Filled } from '../config-schema/index.js';

// Node's timers take at most 2^31 - 1 ms.
const MAX_MS = 2_147_483_647;
const ms = (description: string, fallback: number, min = 0, max = MAX_MS) =>
  withDefault(Type.Integer({ minimum: min, maximum: max, description }), fallback);
const port = (description: string, fallback: number) =>
  withDefault(Type.Integer({ minimum: 0, maximum: 65535, description }), fallback);
const text = (description: string) => Type.Optional(Type.String({ description }));

/**
 * Everything a server needs to start (DESIGN.md §9), as `switchboard.config.json` holds it; each key is also the
 * environment variable `SWITCHBOARD_` + the key in upper snake case (`adminPort` → `SWITCHBOARD_ADMIN_PORT`).
 * A key not in this schema is a start-up error naming it.
 */
export const SettingsSchema = Type.Object(
  {
    dataDir: withDefault(
      Type.String({ minLength: 1, description: 'where the database, the admin token and compiled services live' }),
      './data',
    ),
    db: text(
      'a SQLite file path (default $dataDir/switchboard.db), or a postgres://user:password@host:port/db URL; ' +
        '?schema=NAME on the URL keeps the tables in that schema (created if missing)',
    ),
    pgPoolMax: withDefault(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'PostgreSQL only: the most connections in the pool' }),
      10,
    ),
    servicesDir: withDefault(Type.String({ minLength: 1, description: 'the hot-deployed services directory' }), './services'),
    adminHost: withDefault(
      Type.String({ minLength: 1, description: 'the address the admin API and web admin listen on' }),
      '127.0.0.1',
    ),
    adminPort: port('the admin port; 0 picks a free one', 17010),
    adminToken: text('the admin API bearer token; generated into $dataDir/admin-token when not set'),
    adminUser: text('an optional web admin user (with adminPassword), besides logging in with the token'),
    adminPassword: text("the web admin user's password"),
    adminAllowedHosts: withDefault(
      Type.Array(Type.String(), {
        description:
          'extra Host header names the admin answers to, besides its own address, localhost, 127.0.0.1 and [::1] (a reverse ' +
          "proxy's public name, for instance); * allows any. Requests naming another host are refused (421). Comma-separated in the environment",
      }),
      [],
    ),
    adminTlsCert: text(
      'a PEM certificate (chain) file: the admin API and web admin serve HTTPS with it and adminTlsKey (both or neither); ' +
        're-read when it changes',
    ),
    adminTlsKey: text("the PEM private key file of adminTlsCert's certificate"),
    adminHeadersTimeoutMs: ms(
      "milliseconds a client has to send a request's headers before the admin answers 408 and closes",
      10_000,
      1,
    ),
    adminRequestTimeoutMs: ms(
      'milliseconds a client has to send a whole request (headers and body) before the admin answers 408',
      30_000,
      1,
    ),
    adminBodyLimit: withDefault(
      Type.Integer({
        minimum: 1024,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'the largest admin API request body in bytes; larger is 413 body_too_large',
      }),
      1024 * 1024,
    ),
    adminAuthFailureLimit: withDefault(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'failed credentials (logins, bearer tokens, session cookies) one address may present per minute before 429',
      }),
      10,
    ),
    demo: withDefault(Type.Boolean({ description: 'seed a new database with the demo channels' }), true),
    demoPort: port('the port of the demo channels', 17011),
    deployTimeoutMs: ms(
      'a service file whose import (its top level) has not settled after this long is reported as failed (ms); 0: no limit',
      10_000,
    ),
    stallWarnMs: ms(
      'the event loop blocked this long is logged, naming the service that ran (ms); 0 turns the watchdog off',
      1000,
    ),
    stallExitMs: ms(
      'the event loop blocked this long kills the process (SIGKILL) for a supervisor to restart it (ms); 0: never',
      0,
    ),
    serviceScopes: withDefault(
      Type.Boolean({
        description:
          'blame errors that escape services on the exact service, through AsyncLocalStorage (about 0.5 µs per invocation); off, ' +
          'they are blamed by their stack trace on the hot-deployed file and, when it can tell, service',
      }),
      false,
    ),
    secretKey: text(
      'the AES-256 key that encrypts stored credentials for outgoing connections: 64 hex characters or base64 of 32 bytes. ' +
        'Wins over secretKeyFile. Best given as SWITCHBOARD_SECRET_KEY, not in the config file',
    ),
    secretKeyFile: text(
      'a file holding that key (it must exist); unset: $dataDir/secret-key, generated (mode 0600) on first start',
    ),
    memoryGuardFraction: withDefault(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "heap in use, as a fraction of V8's heap limit, above which new WebSocket connections are refused with 503 server_overloaded; 0: off",
      }),
      0.85,
    ),
    serverName: text(
      "this server's name in logs, /api/health and the cluster's servers table (unique in a cluster); default: the host name, ':' and the admin port",
    ),
    portOffset: withDefault(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        description:
          "added to every channel's port when it listens (the stored address stays as it is), so that several servers run on one host",
      }),
      0,
    ),
    // Cluster timings (PostgreSQL only; docs/cluster.md). The defaults are cluster-notes §3.4's; tests run faster.
    clusterHeartbeatMs: ms("milliseconds between a clustered server's heartbeats (PostgreSQL only)", 5_000, 50, 60_000),
    clusterExpiryMs: ms(
      'milliseconds without a heartbeat after which the housekeeping server reaps a server (PostgreSQL only); keep it at 3 heartbeats or more',
      15_000,
      150,
      600_000,
    ),
    clusterPollMs: ms(
      'milliseconds between reads of the config change table when no NOTIFY arrives: the longest a config change takes to reach every server (PostgreSQL only)',
      1_000,
      20,
      60_000,
    ),
    clusterProbeMs: ms('milliseconds between liveness probes of the LISTEN connection (PostgreSQL only)', 10_000, 100, 300_000),
    // Above 0 so that a slow-header client is always dropped; 300 s is Node's own request timeout.
    channelHeadersTimeoutMs: ms(
      'milliseconds a client may take to send a channel port its complete HTTP headers before a 408 and a close',
      10_000,
      100,
      300_000,
    ),
  },
  { additionalProperties: false },
);

/** Settings with every default filled in and every path resolved (`db` too). */
export type Settings = Omit<Filled<typeof SettingsSchema>, 'db'> & { db: string };

/** The environment variable of a setting: `adminPort` → `SWITCHBOARD_ADMIN_PORT`. */
export function envName(key: string): string {
  return `SWITCHBOARD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
