import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What service code is running: set when the invoker runs a service and when hot deployment imports a file.
 * Timers, event listeners, streams and promises created inside carry it, so an error they throw later
 * (outside `handle()`) can be blamed on the right service.
 */
export interface ServiceScope {
  /** The service being invoked; undefined while a file's top level runs. */
  readonly service: string | undefined;
  /** The file being imported, or the file a hot-deployed service came from. */
  readonly file: string | undefined;
  /** Which server's fault handler the scope belongs to (several servers may share a process in tests). */
  readonly owner: object | undefined;
  /** The watchdog's number for this scope (0 when there is no watchdog). */
  readonly watchId: number;
}

const storage = new AsyncLocalStorage<ServiceScope>();
// Off by default: on Node 20, a used AsyncLocalStorage turns on async hooks for every promise and timer in the
// process. Measured: an in-process echo invocation costs 0.62 µs of CPU without it and 1.01-1.07 µs with it (0.53
// before any of this). Without it, errors are blamed by their stack trace instead (see faults.ts).
let enabled = false;

/** Turns scopes on for the whole process (setting `serviceScopes`); they stay on. */
export function enableServiceScopes(): void {
  if (enabled) return;
  enabled = true;
}

/** Runs `fn` inside `scope` when scopes are on (everything it schedules carries the scope); else just runs it. */
export function runInScope<A extends unknown[], R>(scope: ServiceScope, fn: (...args: A) => R, ...args: A): R {
  return enabled ? storage.run(scope, fn, ...args) : fn(...args);
}

/** The scope of the code running now, if it was started by a service or a service file. */
export function currentScope(): ServiceScope | undefined {
  return enabled ? storage.getStore() : undefined;
}
