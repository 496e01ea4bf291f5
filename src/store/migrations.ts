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
  '0002_pubsub': {
    async up(db: Kysely<unknown>) {
      // Guaranteed-delivery messages and, per subscription, which of them it still has to receive.
      await db.schema
        .createTable('pubsub_message')
        .addColumn('msg_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('topic_name', 'varchar(512)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('mime_type', 'varchar(200)', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('pub_time', 'bigint', (c) => c.notNull())
        .addColumn('expiration_time', 'bigint', (c) => c.notNull())
        .addColumn('correl_id', 'varchar(512)')
        .addColumn('in_reply_to', 'varchar(512)')
        .addColumn('ext_client_id', 'varchar(512)')
        .addColumn('size', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pubsub_message_topic').on('pubsub_message').columns(['topic_name', 'seq']).execute();
      await db.schema.createIndex('pubsub_message_expiry').on('pubsub_message').column('expiration_time').execute();
      await db.schema
        .createTable('pubsub_subscription')
        .addColumn('sub_key', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('topic_name', 'varchar(512)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('pubsub_queue')
        .addColumn('sub_key', 'varchar(128)', (c) => c.notNull())
        .addColumn('msg_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('delivery_count', 'integer', (c) => c.notNull())
        .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('pubsub_queue_pk', ['sub_key', 'msg_id'])
        .execute();
      await db.schema.createIndex('pubsub_queue_order').on('pubsub_queue').columns(['sub_key', 'priority', 'seq']).execute();
    },
  },
};

/** The schema migrations, for Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
