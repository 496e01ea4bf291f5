import { createHash } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { TimeoutError } from '../errors/index.js';
import type { EventLoopWatchdog } from '../observability/index.js';
import { serviceNameOf } from './registry.js';
import { runInScope } from './scope.js';
import { isServiceClass, type ServiceClass } from './service.js';

const SOURCE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

// User services import 'switchboard'; it must resolve to the very module this server runs,
// or `instanceof Service` and shared state would break.
const LIBRARY_ENTRY = pathToFileURL(resolve(fileURLToPath(new URL('../index.js', import.meta.url)))).href;

const libraryAlias: Plugin = {
  name: 'switchboard-alias',
  setup(b) {
    b.onResolve({ filter: /^switchboard$/ }, () => ({ path: LIBRARY_ENTRY, external: true }));
  },
};

/** True for a source file that may hold services (not hidden, not a declaration or a test). */
export function isServiceFile(file: string): boolean {
  const name = basename(file);
  if (name.startsWith('.') || name.endsWith('.d.ts') || /\.test\.[mc]?[jt]s$/.test(name)) return false;
  return SOURCE_EXTENSIONS.has(extname(name));
}

/** The file's name without its extension: the default prefix of the services it deploys. */
export function moduleNameOf(file: string): string {
  return basename(file).replace(/\.[mc]?[jt]s$/, '');
}

/** A service file bundled into one ES module, and the hash of that code. */
export interface CompiledServiceFile {
  readonly code: string;
  readonly hash: string;
}

/** Bundles a service file (TypeScript or JavaScript) with esbuild; `switchboard` stays this server's own module. */
export async function compileServiceFile(file: string): Promise<CompiledServiceFile> {
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
    banner: {
      js: `import { createRequire as __sbRequire } from 'node:module'; const require = __sbRequire(${JSON.stringify(pathToFileURL(file).href)});`,
    },
  });
  const code = result.outputFiles[0]?.text ?? '';
  return { code, hash: createHash('sha256').update(code).digest('hex') };
}

/** Who is told about an import: the fault owner of its scope, the watchdog, and how long it may take. */
export interface ImportOptions {
  readonly faultOwner?: object | undefined;
  readonly watchdog?: EventLoopWatchdog | undefined;
  /** 0 or absent: no limit. */
  readonly deployTimeoutMs?: number | undefined;
}

/** Imports a compiled file inside its scope (what its top level schedules names the file), within the deploy timeout. */
export function importServiceModule(url: string, file: string, options: ImportOptions): Promise<Record<string, unknown>> {
  const watchdog = options.watchdog;
  const watchId = watchdog ? watchdog.register({ file }) : 0;
  const previous = watchdog ? watchdog.enter(watchId) : 0;
  const importing = runInScope(
    { service: undefined, file, owner: options.faultOwner, watchId },
    () => import(url) as Promise<Record<string, unknown>>,
  );
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    watchdog?.leave(previous);
  };
  importing.then(leave, leave);
  const limit = options.deployTimeoutMs ?? 0;
  if (limit <= 0) return importing;
  // Without a pending timer, a top-level await that never settles lets the event loop empty during start-up,
  // and Node exits with code 13 and no log line. The timer keeps the loop alive and turns it into a failed file.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TimeoutError(
            'deploy_timeout',
            `${basename(file)} did not finish importing within ${limit} ms (a top-level await that never settles?); it is not deployed`,
          ),
        ),
      limit,
    );
  });
  // A parked import no longer counts as running, or every later stall would be blamed on it.
  return Promise.race([importing, timeout]).finally(() => {
    clearTimeout(timer);
    leave();
  });
}

/** The service classes a module exports, with their names; an error when it exports none. */
export function serviceClassesOf(mod: Record<string, unknown>, file: string): Array<{ name: string; cls: ServiceClass }> {
  const moduleName = moduleNameOf(file);
  const classes = [...new Set(Object.values(mod).filter(isServiceClass))];
  if (classes.length === 0) throw new Error(`${basename(file)} exports no class extending Service`);
  return classes.map((cls) => ({ name: serviceNameOf(cls, moduleName), cls }));
}
