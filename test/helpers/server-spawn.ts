// Real server processes (dist/src/server/main.js) for the tests that run them: spawned with the environment they
// are given, waited for until /api/health answers, and called over the admin API with their token. Shared by
// server-process.ts (one restartable server) and cluster.ts (several on one PostgreSQL schema).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'src', 'server', 'main.js');

/** A spawned server and what it has written so far (its start-up error, when it fails). */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly output: () => string;
}

/** Spawns main.js with `env` over the test's own environment; its log level is SWITCHBOARD_TEST_LOG or `error`. */
export function spawnServer(env: Record<string, string>): SpawnedServer {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SWITCHBOARD_LOG_LEVEL: process.env.SWITCHBOARD_TEST_LOG ?? 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  return { child, output: () => output };
}

/** Resolves once `adminUrl`/api/health answers; rejects with the server's output if it exits first or after `timeoutMs`. */
export async function waitHealthy(server: SpawnedServer, adminUrl: string, what: string, timeoutMs = 30_000): Promise<void> {
  const { child } = server;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${server.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s: ${server.output()}`);
    try {
      if ((await fetch(`${adminUrl}/api/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Calls a server's admin API with `token`; resolves with the status and the parsed body. */
export async function callAdmin<T = any>(
  adminUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(adminUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}
