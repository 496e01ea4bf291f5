import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { SwitchboardError } from '../errors/index.js';
import type { EventLoopWatchdog } from '../observability/index.js';
import type { ServiceRegistry } from './registry.js';
import type { Attribution } from './faults.js';
import type { ServiceClass } from './service.js';
import { ImportMarkers } from './import-markers.js';
import { compileServiceFile, importServiceModule, isServiceFile, moduleNameOf, serviceClassesOf } from './service-loader.js';

/** The outcome of the last deployment attempt of one file. */
export interface DeploymentStatus {
  readonly file: string;
  readonly ok: boolean;
  readonly services: string[];
  readonly error?: string;
  /** A stable code for failures the server decided on: `deploy_timeout`, `deploy_skipped`. */
  readonly code?: string;
  readonly at: string;
}

/** Options of a `HotDeployer`. */
export interface HotDeployerOptions {
  readonly dir: string;
  /** Where compiled files are written for import (emptied at start). */
  readonly outDir: string;
  readonly registry: ServiceRegistry;
  readonly logger: Logger;
  /** A file whose import has not settled after this long is reported as failed; 0: no limit. */
  readonly deployTimeoutMs?: number;
  /**
   * Where a marker is kept while a file is imported. A marker left by a process that died during the import
   * makes the next start skip that file (while its content is the same), so one file cannot crash-loop the server.
   */
  readonly markerDir?: string;
  /** Errors escaping a file's top level are reported to this owner (see faults.ts). */
  readonly faultOwner?: object;
  readonly watchdog?: EventLoopWatchdog;
}

const DEBOUNCE_MS = 75;

/**
 * Deploys every service file in a directory at start-up and again whenever a file is saved,
 * replaced or removed. A file that fails to compile or to import leaves its previous version running.
 * Emits `deployed` and `failed` with a `DeploymentStatus`, and `removed` with the file path.
 */
export class HotDeployer extends EventEmitter {
  readonly #dir: string;
  readonly #outDir: string;
  readonly #registry: ServiceRegistry;
  readonly #logger: Logger;
  readonly #status = new Map<string, DeploymentStatus>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #queue = new Map<string, Promise<void>>();
  readonly #options: HotDeployerOptions;
  readonly #markers: ImportMarkers;
  // Compiled file URL → its source file, to tell from a stack trace which file's code threw.
  readonly #compiled = new Map<string, string>();
  #watcher: FSWatcher | undefined;
  #generation = 0;

  constructor(options: HotDeployerOptions) {
    super();
    this.#options = options;
    this.#dir = resolve(options.dir);
    this.#outDir = resolve(options.outDir);
    this.#registry = options.registry;
    this.#logger = options.logger.child({ part: 'hot-deploy' });
    this.#markers = new ImportMarkers(options.markerDir);
  }

  /**
   * The service file whose compiled code appears in `stack`, and the service when that can be told: the file
   * deploys only one, or a frame is a method of one of its classes (`at Orders.handle (…)`).
   */
  attribute(stack: string): Attribution | undefined {
    const file = this.#fileOfStack(stack);
    if (!file) return undefined;
    const entries = this.#registry.list().filter((e) => e.source === file && !e.isAlias);
    const services = entries.map((e) => e.name);
    if (entries.length === 1) return { file, service: services[0], services };
    const byClass = entries.find((e) => e.cls.name && stack.includes(`at ${e.cls.name}.`));
    return { file, service: byClass?.name, services };
  }

  #fileOfStack(stack: string): string | undefined {
    for (const [url, file] of this.#compiled) if (stack.includes(url) || stack.includes(file)) return file;
    return undefined;
  }

  /** The services directory being watched. */
  get dir(): string {
    return this.#dir;
  }

  /** Last deployment status of every file seen. */
  status(): DeploymentStatus[] {
    return [...this.#status.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  /** Deploys every file now, then watches for changes. */
  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await rm(this.#outDir, { recursive: true, force: true });
    await mkdir(this.#outDir, { recursive: true });
    await this.#markers.read();
    const files = await this.#listFiles(this.#dir);
    for (const file of files) await this.#enqueue(file, true);
    await this.#markers.forgetGone(new Set(files));
    this.#watcher = watch(this.#dir, { recursive: true }, (_event, name) => {
      if (name) this.#schedule(join(this.#dir, name.toString()));
    });
    this.#watcher.on('error', (err) => this.#logger.error({ err }, 'Watching the services directory failed'));
  }

  /** Stops watching. Deployed services stay deployed. */
  async close(): Promise<void> {
    this.#watcher?.close();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#queue.values()]);
  }

  /** Deploys (or undeploys, if it is gone) one file now; resolves when done. */
  deployFile(file: string): Promise<void> {
    return this.#enqueue(resolve(file));
  }

  async #listFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...(await this.#listFiles(p)));
      else if (isServiceFile(p)) out.push(p);
    }
    return out.sort();
  }

  #schedule(file: string): void {
    if (
      !isServiceFile(file) ||
      relative(this.#dir, file)
        .split(/[\\/]/)
        .some((p) => p.startsWith('.') || p === 'node_modules')
    )
      return;
    clearTimeout(this.#timers.get(file));
    this.#timers.set(
      file,
      setTimeout(() => {
        this.#timers.delete(file);
        void this.#enqueue(file);
      }, DEBOUNCE_MS),
    );
  }

  // One file is deployed at a time, in order, so that a quick second save never loses to the first.
  #enqueue(file: string, atStart = false): Promise<void> {
    const previous = this.#queue.get(file) ?? Promise.resolve();
    const next = previous.then(() => this.#sync(file, atStart));
    this.#queue.set(file, next);
    return next;
  }

  async #sync(file: string, atStart: boolean): Promise<void> {
    const exists = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) {
      this.#registry.removeSource(file);
      await this.#markers.forget(file);
      if (this.#status.delete(file)) {
        this.#logger.info({ file }, 'Service file removed; its services are undeployed');
        this.emit('removed', file);
      }
      return;
    }
    try {
      const classes = await this.#load(file, atStart);
      this.#registry.replaceSource(file, classes);
      const status: DeploymentStatus = { file, ok: true, services: classes.map((c) => c.name), at: new Date().toISOString() };
      this.#status.set(file, status);
      this.#logger.info({ file, services: status.services }, 'Deployed');
      this.emit('deployed', status);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const status: DeploymentStatus = {
        file,
        ok: false,
        services: this.#registry.namesFrom(file),
        error: message,
        ...(err instanceof SwitchboardError ? { code: err.code } : {}),
        at: new Date().toISOString(),
      };
      this.#status.set(file, status);
      this.#logger.error({ file, error: message }, 'Deployment failed; the previous version, if any, keeps running');
      this.emit('failed', status);
    }
  }

  async #load(file: string, atStart: boolean): Promise<Array<{ name: string; cls: ServiceClass }>> {
    const { code, hash } = await compileServiceFile(file);
    // At start a suspect is skipped; a save afterwards is the user asking for it to be tried again.
    if (atStart) this.#markers.refuseSuspect(file, hash);
    else this.#markers.retry(file);
    const out = join(this.#outDir, `${moduleNameOf(file)}.${++this.#generation}.mjs`);
    await writeFile(out, code);
    const url = pathToFileURL(out).href;
    this.#remember(url, file);
    await this.#markers.write({ file, hash, startedAt: new Date().toISOString(), pid: process.pid });
    let mod: Record<string, unknown>;
    try {
      mod = await importServiceModule(url, file, this.#options);
    } finally {
      await rm(out, { force: true });
      await this.#markers.drop(file);
    }
    return serviceClassesOf(mod, file);
  }

  #remember(url: string, file: string): void {
    this.#compiled.set(url, file);
    // Bounded: only the newest compiled versions matter for attribution.
    if (this.#compiled.size > 1000) this.#compiled.delete(this.#compiled.keys().next().value!);
  }
}
