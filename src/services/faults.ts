import type { Logger } from 'pino';
import { currentScope } from './scope.js';

/** How an error escaped: thrown from a callback, or a rejected promise nobody handled. */
export type FaultKind = 'exception' | 'rejection';

/** Where a fault is counted (the server's Metrics). */
export interface FaultCounter {
  uncaught(service: string, kind: FaultKind): void;
}

/** Which deployed file (and, when it can tell, which of its services) an error's stack points into. */
export interface Attribution {
  readonly file: string;
  readonly service: string | undefined;
  /** Every service deployed from the file. */
  readonly services: readonly string[];
}

/** Finds the service file an error's stack points into (hot deployment knows its compiled files). */
export type StackAttributor = (stack: string) => Attribution | undefined;

/**
 * One server's handling of errors that escaped service code outside `handle()`: logged once with the service's
 * name (or the file, for a file's top level), counted, and the server keeps running.
 */
export class ServiceFaults {
  readonly #logger: Logger;
  // Per blamed label: log lines written in the current window, so that an interval throwing every millisecond
  // cannot flood the log (every error is still counted).
  readonly #logged = new Map<string, number>();
  #windowStart = 0;
  readonly #counter: FaultCounter | undefined;
  /** Set by the server once hot deployment runs. */
  attributor: StackAttributor | undefined;

  constructor(logger: Logger, counter?: FaultCounter) {
    this.#logger = logger.child({ part: 'services' });
    this.#counter = counter;
  }

  /** The hot-deployed file (and service) whose code is on `err`'s stack, if any. */
  attribute(err: unknown): Attribution | undefined {
    const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : undefined;
    return stack && this.attributor ? this.attributor(stack) : undefined;
  }

  /** Logs and counts one escaped error, blamed on `blame` (a scope, or what the stack told), if anything. */
  report(kind: FaultKind, err: unknown, blame: Partial<Attribution> | undefined): void {
    const { service, file, services } = blame ?? {};
    const label = service ?? file ?? 'none';
    this.#counter?.uncaught(label, kind);
    if (!this.#mayLog(label)) return;
    const what =
      kind === 'exception'
        ? 'threw outside handle() (a timer, event, stream or microtask callback)'
        : 'rejected a promise that nothing handled';
    if (service || file) {
      this.#logger.error(
        { err, service, file, ...(service ? {} : { services }), kind },
        `Service code ${what}; the server keeps running`,
      );
      return;
    }
    // Not from a service: most likely a bug in Switchboard itself or in a library. Said loudly, not swallowed.
    this.#logger.error(
      { err, kind },
      `Uncaught ${kind} outside any service (a bug in the server or a library); the server keeps running`,
    );
  }

  #mayLog(label: string): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= LOG_WINDOW_MS) {
      this.#windowStart = now;
      this.#logged.clear();
    }
    const n = (this.#logged.get(label) ?? 0) + 1;
    this.#logged.set(label, n);
    if (n === LOG_BUDGET + 1) {
      this.#logger.error(
        { service: label },
        `More errors escaped from ${label}; not logging them for ${LOG_WINDOW_MS / 1000} s (switchboard_service_uncaught_errors_total still counts them)`,
      );
    }
    return n <= LOG_BUDGET;
  }
}

/** Log lines per blamed service (or file) per window; further errors in the window are only counted. */
const LOG_BUDGET = 10;
const LOG_WINDOW_MS = 10_000;

const active = new Set<ServiceFaults>();
let installed = false;

function dispatch(kind: FaultKind, err: unknown): void {
  try {
    const scope = currentScope();
    const owner = scope?.owner;
    if (owner instanceof ServiceFaults && active.has(owner)) return owner.report(kind, err, scope);
    // No scope (scopes are off, or a queueMicrotask callback lost it): the stack may point into a deployed file.
    for (const faults of active) {
      const blame = faults.attribute(err);
      if (blame) return faults.report(kind, err, blame);
    }
    for (const faults of active) faults.report(kind, err, undefined);
  } catch (failure) {
    // The handler of last resort must not throw: that would end the process with the very error it guards against.
    try {
      process.stderr.write(`switchboard: reporting an uncaught ${kind} failed: ${String(failure)}\n`);
    } catch {
      // nothing left to do
    }
  }
}

const onException = (err: unknown): void => dispatch('exception', err);
const onRejection = (reason: unknown): void => dispatch('rejection', reason);

/**
 * Keeps the process alive when service code throws outside `handle()`: installs `uncaughtException` and
 * `unhandledRejection` listeners while at least one server is running (the library case included).
 * Returns the function that removes this server's handling again.
 */
export function guardProcess(faults: ServiceFaults): () => void {
  active.add(faults);
  if (!installed) {
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    installed = true;
  }
  return () => {
    active.delete(faults);
    if (active.size > 0 || !installed) return;
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    installed = false;
  };
}
