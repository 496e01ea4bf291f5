import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { Logger } from 'pino';
import type { ServiceRegistry } from './registry.js';
import { serviceNameOf } from './registry.js';
import { isServiceClass, type ServiceClass } from './service.js';

/** The outcome of the last deployment attempt of one file. */
export interface DeploymentStatus {
  readonly file: string;
  readonly ok: boolean;
  readonly services: string[];
  readonly error?: string;
  readonly at: string;
}

const SOURCE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
const DEBOUNCE_MS = 75;

// User services import 'switchboard'; it must resolve to the very module this server runs,
// or `instanceof Service` and shared state would break.
const LIBRARY_ENTRY = pathToFileURL(resolve(fileURLToPath(new URL('../index.js', import.meta.url)))).href;

const libraryAlias: Plugin = {
  name: 'switchboard-alias',
  setup(b) {
    b.onResolve({ filter: /^switchboard$/ }, () => ({ path: LIBRARY_ENTRY, external: true }));
  },
};

function isServiceFile(file: string): boolean {
  const name = basename(file);
  if (name.startsWith('.') || name.endsWith('.d.ts') || /\.test\.[mc]?[jt]s$/.test(name)) return false;
  return SOURCE_EXTENSIONS.has(extname(name));
}

function moduleNameOf(file: string): string {
  return basename(file).replace(/\.[mc]?[jt]s$/, '');
}

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
  #watcher: FSWatcher | undefined;
  #generation = 0;

  constructor(options: { dir: string; outDir: string; registry: ServiceRegistry; logger: Logger }) {
    super();
    this.#dir = resolve(options.dir);
    this.#outDir = resolve(options.outDir);
    this.#registry = options.registry;
    this.#logger = options.logger.child({ part: 'hot-deploy' });
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
    for (const file of await this.#listFiles(this.#dir)) await this.#enqueue(file);
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
    if (!isServiceFile(file) || relative(this.#dir, file).split(/[\\/]/).some((p) => p.startsWith('.') || p === 'node_modules')) return;
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
  #enqueue(file: string): Promise<void> {
    const previous = this.#queue.get(file) ?? Promise.resolve();
    const next = previous.then(() => this.#sync(file));
    this.#queue.set(file, next);
    return next;
  }

  async #sync(file: string): Promise<void> {
    const exists = await stat(file).then((s) => s.isFile(), () => false);
    if (!exists) {
      this.#registry.removeSource(file);
      if (this.#status.delete(file)) {
        this.#logger.info({ file }, 'Service file removed; its services are undeployed');
        this.emit('removed', file);
      }
      return;
    }
    try {
      const classes = await this.#load(file);
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
        at: new Date().toISOString(),
      };
      this.#status.set(file, status);
      this.#logger.error({ file, error: message }, 'Deployment failed; the previous version, if any, keeps running');
      this.emit('failed', status);
    }
  }

  async #load(file: string): Promise<Array<{ name: string; cls: ServiceClass }>> {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [libraryAlias],
      // Bundled CommonJS dependencies may call require(); give them one rooted at the source file.
      banner: { js: `import { createRequire as __sbRequire } from 'node:module'; const require = __sbRequire(${JSON.stringify(pathToFileURL(file).href)});` },
    });
    const code = result.outputFiles[0]?.text ?? '';
    const out = join(this.#outDir, `${moduleNameOf(file)}.${++this.#generation}.mjs`);
    await writeFile(out, code);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
    } finally {
      await rm(out, { force: true });
    }
    const moduleName = moduleNameOf(file);
    const classes = [...new Set(Object.values(mod).filter(isServiceClass))];
    if (classes.length === 0) throw new Error(`${basename(file)} exports no class extending Service`);
    return classes.map((cls) => ({ name: serviceNameOf(cls, moduleName), cls }));
  }
}
