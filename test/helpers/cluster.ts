// Several real server processes (dist/src/server/main.js) on one PostgreSQL schema: a cluster for the tests of
// test/cluster*.test.ts. Each server gets its own admin port, name, data dir and SWITCHBOARD_PORT_OFFSET; timings
// are fast so that a test on 2 cores stays short.
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.js';
import { callAdmin, spawnServer, waitHealthy } from './server-spawn.js';
import { dropSchema, pgUrl, schemaName } from './postgres.js';

export const CLUSTER_TOKEN = 'cluster-test-admin-token-0123';

/** Fast cluster timings for tests (the defaults are 5 s / 15 s / 1 s / 10 s). */
export const FAST = {
  SWITCHBOARD_CLUSTER_HEARTBEAT_MS: '200',
  SWITCHBOARD_CLUSTER_EXPIRY_MS: '1000',
  SWITCHBOARD_CLUSTER_POLL_MS: '300',
  SWITCHBOARD_CLUSTER_PROBE_MS: '1000',
};

/** One server process of a test cluster. */
export class ClusterServer {
  child: ChildProcess | undefined;
  #output: () => string = () => '';
  readonly adminUrl: string;

  constructor(
    readonly cluster: TestCluster,
    readonly name: string,
    readonly adminPort: number,
    readonly portOffset: number,
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
  }

  /** Spawns the process; resolves once /api/health answers, rejects with its output if it exits first. */
  async start(): Promise<this> {
    const spawned = spawnServer({
      SWITCHBOARD_DATA_DIR: this.dir,
      SWITCHBOARD_SERVICES_DIR: join(this.dir, 'services'),
      SWITCHBOARD_ADMIN_PORT: String(this.adminPort),
      SWITCHBOARD_ADMIN_TOKEN: CLUSTER_TOKEN,
      SWITCHBOARD_DEMO: 'false',
      SWITCHBOARD_SERVER_NAME: this.name,
      SWITCHBOARD_PORT_OFFSET: String(this.portOffset),
      SWITCHBOARD_DB: pgUrl(this.cluster.schema),
      ...FAST,
      ...this.env,
    });
    const child = spawned.child;
    this.child = child;
    this.#output = spawned.output;
    this.cluster.children.add(child);
    child.once('exit', () => this.cluster.children.delete(child));
    await waitHealthy(spawned, this.adminUrl, `server ${this.name}`);
    return this;
  }

  /** What the server wrote to stderr and stdout (its start-up error, when it fails). */
  get output(): string {
    return this.#output();
  }

  /** Calls its admin API with the token; resolves with status and parsed body. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    return callAdmin<T>(this.adminUrl, CLUSTER_TOKEN, method, path, body);
  }

  /** Writes a service file into its services directory (before `start`, so that it is deployed when it starts). */
  async addService(file: string, source: string): Promise<void> {
    const dir = join(this.dir, 'services');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, file), source);
  }

  /** Sends a signal and resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** The ws:// URL of a channel stored with `port`, as this server listens on it (the port plus its offset). */
  wsUrl(port: number, path: string): string {
    return `ws://127.0.0.1:${port + this.portOffset}${path}`;
  }
}

/** A schema of its own and the servers on it; `close()` kills them and drops the schema. */
export class TestCluster {
  readonly schema = schemaName('sb_cluster');
  readonly children = new Set<ChildProcess>();
  readonly servers: ClusterServer[] = [];
  readonly #dirs: string[] = [];

  /** A server (not started yet); `index` picks its port offset, so each server of the cluster gets its own ports. */
  async server(name: string, env: Record<string, string> = {}): Promise<ClusterServer> {
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-cluster-'));
    this.#dirs.push(dir);
    const server = new ClusterServer(this, name, await freePort(), this.servers.length * 7, dir, env);
    this.servers.push(server);
    return server;
  }

  /**
   * A port for a channel stored once and served by every server of the cluster at the port plus its offset: free at
   * each of those ports (checked by binding them) and none of the servers' admin ports, so that no server's listener
   * lands on a port another process holds (other test files pick ports at the same time; see `freePort`).
   */
  async channelPort(): Promise<number> {
    return freePort(this.servers.map((s) => s.portOffset));
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    for (const d of this.#dirs) await rm(d, { recursive: true, force: true });
    await dropSchema(this.schema);
  }
}
