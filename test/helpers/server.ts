import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type Settings } from '../../src/server/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { createLogger } from '../../src/observability/index.js';
import { dropTestDb, testDb } from './test-db.js';

export { dropTestDb, postgresOnly, queryStored, sqliteOnly, testDb, testDbEnv, testPostgresUrl } from './test-db.js';

/** The admin token of every test server (long enough for the server's minimum of 24 characters). */
export const TEST_TOKEN = 'test-token-for-the-admin-api';

// Ports this process handed out: a test server not started yet has not bound its own.
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (outgoing connections' local ports), 32768 if unknown. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that is free at `port` plus each of `offsets` (a cluster's servers each listen at a
 * stored channel port plus their own offset), handed out once per process. Picked below the kernel's ephemeral
 * range: a port in it that was free when checked can be taken by any outgoing connection (a PostgreSQL pool's,
 * another test's client) before the server binds it — CI saw a server exit at start-up and ECONNREFUSED that way.
 */
export async function freePort(offsets: readonly number[] = []): Promise<number> {
  const below = ephemeralLow() - 100;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    const ports = [...new Set([port, ...offsets.map((offset) => port + offset)])];
    if (ports.some((p) => handedOut.has(p))) continue;
    if (!(await Promise.all(ports.map(bindable))).every(Boolean)) continue;
    for (const p of ports) handedOut.add(p);
    return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

/**
 * A server on a fresh temp dir (a real SQLite file there, or on the PostgreSQL pass a schema of its own), admin API
 * on a free port, plus an API helper.
 */
export interface TestServer extends RunningServer {
  readonly dir: string;
  /** Calls the admin API with the admin token; resolves with status and parsed JSON body. */
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  /** Stops the server and deletes its directory (and its PostgreSQL schema). */
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<Settings> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-test-'));
  const logger = process.env.SWITCHBOARD_TEST_LOG ? createLogger(process.env.SWITCHBOARD_TEST_LOG) : silentLogger();
  const server = await startServer(
    {
      dataDir: dir,
      servicesDir: join(dir, 'services'),
      adminHost: '127.0.0.1',
      adminPort: 0,
      adminToken: TEST_TOKEN,
      demo: false,
      ...testDb(dir),
      ...overrides,
    },
    logger,
  ).catch(async (err: unknown) => {
    // A start that fails leaves no dir nor schema behind.
    await removeServerData(dir);
    throw err;
  });
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(server.adminUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${TEST_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as any };
  };
  let stopped = false;
  return Object.assign(Object.create(null), server, {
    dir,
    api,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
      await removeServerData(dir);
    },
  }) as TestServer;
}

/** Deletes a test server's directory and, on the PostgreSQL pass, its schema. */
export async function removeServerData(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await dropTestDb(dir);
}

/** Creates a channel on a free port through the admin API; resolves with its ws:// URL. */
export async function createChannel(
  server: TestServer,
  channel: Record<string, unknown> & { name: string; service: string },
  path = '/ws',
): Promise<string> {
  const port = await freePort();
  const address = `ws://127.0.0.1:${port}${path}`;
  const res = await server.api('POST', '/api/channels/wsx', { address, ...channel });
  if (res.status !== 201) throw new Error(`Creating channel failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (channel.address as string | undefined) ?? address;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 3000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
