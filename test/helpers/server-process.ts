// One real server process (dist/src/server/main.js) that a test can kill -9 and start again on the same data dir
// (its SQLite file, or its PostgreSQL schema on that pass) and the same ports, so that clients reconnect to it.
// The seeded demo channel `demo` (zato protocol, the gateway, no security) is at `channelUrl`.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, removeServerData, testDbEnv } from './server.js';
import { callAdmin, spawnServer, waitHealthy } from './server-spawn.js';

const TOKEN = 'restart-test-admin-token-0123';

/** A server process, restartable on the same data and ports. */
export class ServerProcess {
  child: ChildProcess | undefined;
  #output: () => string = () => '';

  private constructor(
    readonly dir: string,
    readonly adminPort: number,
    readonly channelPort: number,
  ) {}

  /** A fresh data dir and free ports; not started yet. */
  static async create(): Promise<ServerProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-process-'));
    return new ServerProcess(dir, await freePort(), await freePort());
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  /** The demo channel (zato protocol, `helpers.web-sockets-gateway`, no security). */
  get channelUrl(): string {
    return `ws://127.0.0.1:${this.channelPort}/demo`;
  }

  /** Spawns the server; resolves once /api/health answers, rejects with its output if it exits first. */
  async start(): Promise<void> {
    const spawned = spawnServer({
      SWITCHBOARD_DATA_DIR: this.dir,
      SWITCHBOARD_SERVICES_DIR: join(this.dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: String(this.adminPort),
      SWITCHBOARD_DEMO_PORT: String(this.channelPort),
      SWITCHBOARD_ADMIN_TOKEN: TOKEN,
      ...testDbEnv(this.dir),
    });
    this.child = spawned.child;
    this.#output = spawned.output;
    await waitHealthy(spawned, this.adminUrl, 'the server');
  }

  /** What the process wrote (its start-up error, when it fails). */
  get output(): string {
    return this.#output();
  }

  /** Ends the process (SIGKILL: a crash; SIGTERM: a graceful shutdown) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Calls the admin API; resolves with the status and the parsed body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return callAdmin(this.adminUrl, TOKEN, method, path, body);
  }

  /** Kills the process and deletes its data (and its PostgreSQL schema). */
  async remove(): Promise<void> {
    await this.stop();
    await removeServerData(this.dir);
  }
}
