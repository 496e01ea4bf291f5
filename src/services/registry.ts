import { EventEmitter } from 'node:events';
import { ConflictError, type SwitchboardErrorOptions } from '../errors/index.js';
import type { ServiceClass } from './service.js';

/** A deployed service. */
export interface DeployedService {
  readonly name: string;
  readonly cls: ServiceClass;
  /** `builtin`, or the file the service was deployed from. */
  readonly source: string;
  readonly deployedAt: Date;
  /** True when this name is an alias of another entry's class. */
  readonly isAlias: boolean;
}

/** Two sources trying to deploy the same service name. */
export class DuplicateServiceError extends ConflictError {
  declare readonly code: 'duplicate_service';
  constructor(code: 'duplicate_service', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** The name a class deploys under: its `serviceName`, else `<module>.<kebab-class-name>` as in Zato. */
export function serviceNameOf(cls: ServiceClass, moduleName: string): string {
  if (cls.serviceName) return cls.serviceName;
  return `${moduleName}.${kebab(cls.name || 'service')}`;
}

/**
 * Name → service class. Deployment is per source (a file, or `builtin`): a source's services are
 * replaced as a whole, so a file that renames a service drops the old name.
 */
export class ServiceRegistry extends EventEmitter {
  readonly #byName = new Map<string, DeployedService>();

  /** The deployed service with this name. */
  get(name: string): DeployedService | undefined {
    return this.#byName.get(name);
  }

  /** All deployed services, sorted by name. */
  list(): DeployedService[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names deployed from one source. */
  namesFrom(source: string): string[] {
    return this.list()
      .filter((s) => s.source === source)
      .map((s) => s.name);
  }

  /**
   * Replaces everything deployed from `source` with `classes` (name → class), atomically:
   * if any name is taken by another source, nothing changes and a `DuplicateServiceError` is thrown.
   */
  replaceSource(source: string, classes: ReadonlyArray<{ name: string; cls: ServiceClass }>): void {
    const entries: DeployedService[] = [];
    const now = new Date();
    for (const { name, cls } of classes) {
      entries.push({ name, cls, source, deployedAt: now, isAlias: false });
      for (const alias of cls.aliases ?? []) entries.push({ name: alias, cls, source, deployedAt: now, isAlias: true });
    }
    const seen = new Set<string>();
    for (const entry of entries) {
      const existing = this.#byName.get(entry.name);
      if (seen.has(entry.name))
        throw new DuplicateServiceError('duplicate_service', `Service ${entry.name} is already deployed from ${source}`);
      if (existing && existing.source !== source)
        throw new DuplicateServiceError('duplicate_service', `Service ${entry.name} is already deployed from ${existing.source}`);
      seen.add(entry.name);
    }
    const removed = this.#removeFrom(source);
    for (const entry of entries) this.#byName.set(entry.name, entry);
    this.emit('change', { source, added: entries.map((e) => e.name), removed: removed.filter((n) => !seen.has(n)) });
  }

  /** Registers one class under its own name (and aliases). */
  register(cls: ServiceClass, source = 'builtin'): void {
    const name = serviceNameOf(cls, 'service');
    const current = this.list().filter((s) => s.source === source && !s.isAlias);
    this.replaceSource(source, [...current.map((s) => ({ name: s.name, cls: s.cls })), { name, cls }]);
  }

  /** Undeploys everything from a source. */
  removeSource(source: string): void {
    const removed = this.#removeFrom(source);
    if (removed.length) this.emit('change', { source, added: [], removed });
  }

  #removeFrom(source: string): string[] {
    const removed: string[] = [];
    for (const [name, entry] of this.#byName) {
      if (entry.source !== source) continue;
      this.#byName.delete(name);
      removed.push(name);
    }
    return removed;
  }
}
