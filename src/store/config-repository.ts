import { ConflictError, NotFoundError, ValidationError } from '../errors/index.js';
import type { Insertable, Kysely } from 'kysely';
import type { ConfigChangeTable, Database } from './schema.js';
import type { Store, ConfigChange } from './store.js';

type ChangeRow = Insertable<ConfigChangeTable>;

/** The kinds of configuration object; each names its `<kind>_not_found` and `<kind>_exists` error codes. */
export type ConfigKind = 'channel' | 'outgoing' | 'security' | 'topic';

/** Anything stored as a configuration object. */
export interface Named {
  name: string;
}

/**
 * Create/read/update/delete for one kind of configuration object. Every write emits a `ConfigChange`
 * through the store after it commits, which is how live objects learn they changed.
 */
export class ConfigRepository<T extends Named> {
  readonly kind: ConfigKind;
  readonly #store: Store;

  constructor(store: Store, kind: ConfigKind) {
    this.#store = store;
    this.kind = kind;
  }

  /** Every object of this kind, sorted by name. */
  async list(): Promise<T[]> {
    const rows = await this.#store.db
      .selectFrom('config_object')
      .select('body')
      .where('kind', '=', this.kind)
      .orderBy('name')
      .execute();
    return rows.map((r) => JSON.parse(r.body) as T);
  }

  /** One object, or undefined. */
  async get(name: string): Promise<T | undefined> {
    // PostgreSQL's text cannot hold NUL (the query itself would fail), and no name with one is ever stored.
    if (name.includes('\0')) return undefined;
    const row = await this.#store.db
      .selectFrom('config_object')
      .select('body')
      .where('kind', '=', this.kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as T) : undefined;
  }

  /** One object, or a 404 `NotFoundError`. */
  async require(name: string): Promise<T> {
    const found = await this.get(name);
    if (!found) throw new NotFoundError(`${this.kind}_not_found`, `No ${this.kind} named ${name}`);
    return found;
  }

  /** Creates an object; a 409 `ConflictError` if the name is taken. */
  async create(value: T): Promise<T> {
    refuseNul(value.name);
    const now = new Date().toISOString();
    try {
      await this.#write({ op: 'create', name: value.name, new_name: null }, (db) =>
        db
          .insertInto('config_object')
          .values({
            kind: this.kind,
            name: value.name,
            body: JSON.stringify(value),
            version: 1,
            created_at: now,
            updated_at: now,
          })
          .execute(),
      );
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError(`${this.kind}_exists`, `A ${this.kind} named ${value.name} already exists`, { field: 'name' });
      throw err;
    }
    this.#emit({ kind: this.kind, op: 'create', name: value.name, previous: undefined, current: value });
    return value;
  }

  /** Replaces an object (and renames it when `value.name` differs); 404 if missing, 409 if the new name is taken. */
  async update(name: string, value: T): Promise<T> {
    const previous = await this.require(name);
    refuseNul(value.name);
    if (value.name !== name && (await this.get(value.name))) {
      throw new ConflictError(`${this.kind}_exists`, `A ${this.kind} named ${value.name} already exists`, { field: 'name' });
    }
    const renamed = value.name !== name ? value.name : null;
    await this.#write({ op: 'update', name, new_name: renamed }, (db) =>
      db
        .updateTable('config_object')
        .set((eb) => ({
          name: value.name,
          body: JSON.stringify(value),
          version: eb('version', '+', 1),
          updated_at: new Date().toISOString(),
        }))
        .where('kind', '=', this.kind)
        .where('name', '=', name)
        .execute(),
    );
    this.#emit({ kind: this.kind, op: 'update', name, previous, current: value });
    return value;
  }

  /** Deletes an object and resolves with what was deleted; 404 if missing. */
  async delete(name: string): Promise<T> {
    const previous = await this.require(name);
    await this.#write({ op: 'delete', name, new_name: null }, (db) =>
      db.deleteFrom('config_object').where('kind', '=', this.kind).where('name', '=', name).execute(),
    );
    this.#emit({ kind: this.kind, op: 'delete', name, previous, current: undefined });
    return previous;
  }

  /**
   * Runs a config write. On PostgreSQL it also appends to `config_change`, in the same transaction and behind the
   * `config` lock row, so that every server of the cluster reads the changes in commit order (cluster-notes §3.5).
   */
  async #write(change: Omit<ChangeRow, 'kind'>, write: (db: Kysely<Database>) => Promise<unknown>): Promise<void> {
    if (this.#store.dialect !== 'postgres') {
      await write(this.#store.db);
      return;
    }
    await this.#store.db.transaction().execute(async (trx) => {
      await trx.selectFrom('cluster_lock').select('k').where('k', '=', 'config').forUpdate().execute();
      await write(trx);
      await trx
        .insertInto('config_change')
        .values({ kind: this.kind, ...change })
        .execute();
    });
  }

  #emit(change: ConfigChange<T>): void {
    this.#store.notify(change);
  }
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** The same on both databases: PostgreSQL's text cannot store NUL, so neither store takes a name with one. */
function refuseNul(name: string): void {
  if (name.includes('\0'))
    throw new ValidationError('invalid_input', 'A name must not contain a NUL character', { field: 'name' });
}
