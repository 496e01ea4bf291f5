import { PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { SEQ_BLOCK } from './pubsub-repository.js';

// Migrations are code, versioned by name, applied in order by Kysely's Migrator, written with its schema builder so
// that each runs on SQLite and PostgreSQL alike. Never change what one that has shipped makes on SQLite: add the next.
// Where the two databases need different column types, `types(db)` is the one place that says so.

/** Column types that differ between the databases. */
interface DialectTypes {
  /** A publication sequence number: SQLite's `integer` is already 64-bit; PostgreSQL's is 32. */
  readonly seq: 'integer' | 'bigint';
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

function types(db: Kysely<unknown>): DialectTypes {
  return isPostgres(db) ? { seq: 'bigint' } : { seq: 'integer' };
}
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
      const { seq } = types(db);
      // Guaranteed-delivery messages and, per subscription, which of them it still has to receive.
      await db.schema
        .createTable('pubsub_message')
        .addColumn('msg_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('seq', seq, (c) => c.notNull())
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
        .addColumn('seq', seq, (c) => c.notNull())
        .addColumn('delivery_count', 'integer', (c) => c.notNull())
        .addColumn('delivered', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('pubsub_queue_pk', ['sub_key', 'msg_id'])
        .execute();
      await db.schema.createIndex('pubsub_queue_order').on('pubsub_queue').columns(['sub_key', 'priority', 'seq']).execute();
    },
  },
  '0003_pubsub_backlog': {
    async up(db: Kysely<unknown>) {
      // A subscriber's next batch is `where sub_key = ? and delivered = 0 order by priority desc, seq`: an index in
      // exactly that order reads the batch off its head instead of sorting the whole backlog (23 ms per batch at
      // 20k rows with the ascending index it replaces).
      await db.schema.dropIndex('pubsub_queue_order').ifExists().execute();
      await db.schema
        .createIndex('pubsub_queue_next')
        .on('pubsub_queue')
        .columns(['sub_key', 'delivered', 'priority desc', 'seq'])
        .execute();
      // Whether anyone still needs a message (`… where msg_id = ?`, on every acknowledgement) and expiry's delete by
      // msg_id: without it each scanned the whole queue table.
      await db.schema.createIndex('pubsub_queue_msg').on('pubsub_queue').column('msg_id').execute();
      // Per-subscription overflow state (see docs/pubsub.md) and when it lost its connection (detachedTtl).
      const subscription = () => db.schema.alterTable('pubsub_subscription');
      await subscription()
        .addColumn('suspended', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await subscription()
        .addColumn('dropped', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await subscription().addColumn('detached_at', 'bigint').execute();
    },
  },
  '0004_cluster': {
    async up(db: Kysely<unknown>) {
      // Clustering is PostgreSQL-only (one server per SQLite file): SQLite keeps its single-server schema.
      if (!isPostgres(db)) return;
      // One row per live server incarnation; heartbeats and expiry compare with the database's now(), so the
      // servers' own clocks never matter (cluster-notes §3.4).
      await db.schema
        .createTable('cluster_server')
        .addColumn('server_id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(512)', (c) => c.notNull().unique())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('version', 'varchar(64)', (c) => c.notNull())
        .addColumn('internal_url', 'varchar(512)')
        .addColumn('session_pid', 'integer')
        .addColumn('clients', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // The ordered outbox of config writes every server follows from its cursor. A writer takes the `config` lock
      // row first, so ids commit in order and a cursor never skips a row that commits late ([M] gap test, §2).
      await db.schema
        .createTable('config_change')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(512)', (c) => c.notNull())
        .addColumn('new_name', 'varchar(512)')
        .addColumn('op', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('config_change_created').on('config_change').column('created_at').execute();
      await db.schema
        .createTable('cluster_lock')
        .addColumn('k', 'varchar(32)', (c) => c.primaryKey())
        .execute();
      await sql`insert into cluster_lock (k) values ('config')`.execute(db);
    },
  },
  '0005_pubsub_seq': {
    async up(db: Kysely<unknown>) {
      // Publication sequence numbers in blocks of SEQ_BLOCK from one sequence, so servers sharing the database never
      // hand out the same ones (cluster-notes §3.7). It starts above every stored seq: an existing database keeps its
      // order. PostgreSQL only: SQLite has one server per file, which counts in process (and its schema is pinned).
      // It needs nothing but 0002's pubsub_message, so it applies after whatever 0004 does.
      if (!isPostgres(db)) return;
      const { rows } = await sql<{ next: number }>`select coalesce(max(seq), 0) + 1 as next from pubsub_message`.execute(db);
      const start = Number(rows[0]?.next ?? 1);
      await sql`create sequence pubsub_seq as bigint increment by ${sql.lit(SEQ_BLOCK)} minvalue 1 start with ${sql.lit(start)}`.execute(
        db,
      );
    },
  },
  '0006_wsx_client': {
    async up(db: Kysely<unknown>) {
      // The cluster-wide registry of connected clients (cluster-notes §3.2, §3.6). No heartbeat of its own: a client
      // is live while its server is, and a reaped or replaced server's row takes its clients with it (the cascade).
      if (!isPostgres(db)) return;
      await db.schema
        .createTable('wsx_client')
        .addColumn('pub_client_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('channel_name', 'varchar(512)', (c) => c.notNull())
        .addColumn('server_id', 'varchar(32)', (c) => c.notNull().references('cluster_server.server_id').onDelete('cascade'))
        .addColumn('ext_client_id', 'text')
        .addColumn('ext_client_name', 'text')
        .addColumn('peer_address', 'varchar(128)', (c) => c.notNull())
        .addColumn('protocol', 'varchar(16)', (c) => c.notNull())
        .addColumn('connected_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('wsx_client_channel').on('wsx_client').column('channel_name').execute();
      await db.schema.createIndex('wsx_client_server').on('wsx_client').column('server_id').execute();
      await db.schema.createIndex('wsx_client_ext').on('wsx_client').column('ext_client_id').execute();
      // NOTIFY payloads over the limit: the notification carries the id. Targeted reads delete their row; broadcast
      // rows are read by every server, so the housekeeper trims them by age.
      await db.schema
        .createTable('cluster_blob')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex('cluster_blob_created').on('cluster_blob').column('created_at').execute();
    },
  },
  '0007_pubsub_cluster': {
    async up(db: Kysely<unknown>) {
      // Pub/sub across servers (cluster-notes §3.2, §3.7). PostgreSQL only, as 0004. A subscription's owner is the
      // server holding its subscriber's socket; a dead server's subscriptions become ownerless, resumable anywhere.
      if (!isPostgres(db)) return;
      // Idempotent (`if not exists`), so that a database whose migration record lost an earlier entry (a test
      // re-applying 0005) can apply it again.
      await sql`alter table pubsub_subscription
        add column if not exists owner_server_id varchar(32) references cluster_server (server_id) on delete set null,
        add column if not exists owner_epoch bigint not null default 0`.execute(db);
      // The fan-out of a GD publication joins the topic's subscriptions in SQL.
      await db.schema
        .createIndex('pubsub_subscription_topic')
        .ifNotExists()
        .on('pubsub_subscription')
        .column('topic_name')
        .execute();
      // Depth per topic for every server to read (maxDepthGd, maxBytesGd), instead of each server's own count.
      await db.schema
        .createTable('pubsub_topic_depth')
        .ifNotExists()
        .addColumn('topic_name', 'varchar(512)', (c) => c.primaryKey())
        .addColumn('gd', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`insert into pubsub_topic_depth (topic_name, gd, bytes)
        select topic_name, count(*), coalesce(sum(size), 0) from pubsub_message group by topic_name
        on conflict (topic_name) do nothing`.execute(db);
    },
  },
  '0008_pubsub_depth_shards': {
    async up(db: Kysely<unknown>) {
      // One depth row per topic and writing process, summed when read: one row for all would make every server's
      // rounds of a topic wait for each other's commits on its lock (a server's own rounds still do, which keeps
      // them in order). The housekeeper folds the rows no process wrote for a while into the shard ''.
      if (!isPostgres(db)) return;
      await sql`alter table pubsub_topic_depth
        add column if not exists shard varchar(32) not null default '',
        add column if not exists updated_at timestamptz not null default now()`.execute(db);
      await sql`alter table pubsub_topic_depth drop constraint if exists pubsub_topic_depth_pkey`.execute(db);
      await sql`alter table pubsub_topic_depth add primary key (topic_name, shard)`.execute(db);
    },
  },
};

/** The schema migrations, for Kysely's Migrator. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
