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
import type { StoreHealth } from './store-health.js';

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

  // Both dialects' drivers have savepoints; one without would otherwise seem to take them and do nothing.
  savepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    return this.#guard(() => savepointCall(this.#inner.savepoint).call(this.#inner, unwrap(c), name, compile));
  }

  rollbackToSavepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    return this.#guard(() => savepointCall(this.#inner.rollbackToSavepoint).call(this.#inner, unwrap(c), name, compile));
  }

  releaseSavepoint(c: DatabaseConnection, name: string, compile: Compile): Promise<void> {
    return this.#guard(() => savepointCall(this.#inner.releaseSavepoint).call(this.#inner, unwrap(c), name, compile));
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

type SavepointCall = (c: DatabaseConnection, name: string, compile: Compile) => Promise<void>;

function savepointCall(call: SavepointCall | undefined): SavepointCall {
  if (!call) throw new Error("This database's driver has no savepoints");
  return call;
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
