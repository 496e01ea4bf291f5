import type { Kysely, Migration, MigrationProvider } from 'kysely';

// Migrations are code, versioned by name, applied in order by Kysely's Migrator. Never edit one that has
// shipped: add the next.
const migrations: Record<string, Migration> = {
  '0001_config_objects': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('config_object')
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(512)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('config_object_pk', ['kind', 'name'])
        .execute();
      await db.schema
        .createTable('meta')
        .addColumn('key', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

/** The schema migrations, for Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
