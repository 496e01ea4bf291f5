import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { isStoreUnavailable, toStoreError } from './store-errors.js';

/** The database's reachability as the last query found it: what `/api/health` reports, at no cost of its own. */
export class StoreHealth {
  #reachable = true;

  /** False since a query found the database out of reach, until one succeeds again. */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** A query answered. */
  succeeded(): void {
    this.#reachable = true;
  }

  /** `err` as callers should see it (see `toStoreError`); notes an unreachable database. */
  failed(err: unknown): unknown {
    const mapped = toStoreError(err);
    if (isStoreUnavailable(mapped)) this.#reachable = false;
    return mapped;
  }
}

type Compile = QueryCompiler['compileQuery'];

/** A pooled connection whose errors pass through `StoreHealth.failed`. */
class GuardedConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #health: StoreHealth;

  constructor(inner: DatabaseConnection, health: StoreHealth) {
    this.inner = inner;
    this.#health = health;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(query);
      this.#health.succeeded();
      return result;
    } catch (err) {
      throw this.#health.failed(err);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      throw this.#health.failed(err);
    }
  }
}

// The dialect's own driver reaches into its own connection objects (pg's release by a private symbol): every call
// hands it the connection it made, and maps what it throws.
class GuardedDriver implements Driver {
  readonly #inner: Driver;
  readonly #health: StoreHealth;

  constructor(inner: Driver, health: StoreHealth) {
    this.#inner = inner;
    this.#health = health;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new GuardedConnection(await this.#guard(() => this.#inner.acquireConnection()), this.#health);
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#guard(() => this.#inner.beginTransaction(unwrap(c), settings));
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.#guard(() => this.#inner.commitTransaction(unwrap(c)));
  }

  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.#guard(() => this.#inner.rollbackTransaction(unwrap(c)));
  }

  async savepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.#guard(async () => this.#inner.savepoint?.(unwrap(c), name, compile));
  }

  async rollbackToSavepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.#guard(async () => this.#inner.rollbackToSavepoint?.(unwrap(c), name, compile));
  }

  async releaseSavepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    await this.#guard(async () => this.#inner.releaseSavepoint?.(unwrap(c), name, compile));
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(c));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  async #guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.#health.failed(err);
    }
  }
}

function unwrap(c: DatabaseConnection): DatabaseConnection {
  return c instanceof GuardedConnection ? c.inner : c;
}

/** `dialect` with every driver error classified by `toStoreError` and the outcome noted in `health`. */
export function guardedDialect(dialect: Dialect, health: StoreHealth): Dialect {
  return {
    createDriver: (): Driver => new GuardedDriver(dialect.createDriver(), health),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}
