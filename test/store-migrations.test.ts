// The migrations are written once for SQLite and PostgreSQL. On SQLite they must keep producing exactly the schema
// they shipped with (an existing database was made by the old text), pinned here column by column and index by index.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Store } from '../src/store/index.js';

interface Column {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

interface IndexColumn {
  name: string | null;
  desc: number;
  key: number;
}

const SHIPPED = {
  config_object: [
    'kind varchar(64) not null pk1',
    'name varchar(512) not null pk2',
    'body text not null',
    'version integer not null',
    'created_at varchar(32) not null',
    'updated_at varchar(32) not null',
  ],
  meta: ['key varchar(128) pk1', 'value text not null'],
  pubsub_message: [
    'msg_id varchar(64) pk1',
    'seq integer not null',
    'topic_name varchar(512) not null',
    'data text not null',
    'mime_type varchar(200) not null',
    'priority integer not null',
    'pub_time bigint not null',
    'expiration_time bigint not null',
    'correl_id varchar(512)',
    'in_reply_to varchar(512)',
    'ext_client_id varchar(512)',
    'size integer not null',
  ],
  pubsub_queue: [
    'sub_key varchar(128) not null pk1',
    'msg_id varchar(64) not null pk2',
    'priority integer not null',
    'seq integer not null',
    'delivery_count integer not null',
    'delivered integer not null default 0',
  ],
  pubsub_subscription: [
    'sub_key varchar(128) pk1',
    'topic_name varchar(512) not null',
    'body text not null',
    'created_at varchar(32) not null',
    'suspended integer not null default 0',
    'dropped integer not null default 0',
    'detached_at bigint',
  ],
};

const SHIPPED_INDEXES = [
  'pubsub_message_expiry on pubsub_message (expiration_time)',
  'pubsub_message_topic on pubsub_message (topic_name, seq)',
  'pubsub_queue_msg on pubsub_queue (msg_id)',
  'pubsub_queue_next on pubsub_queue (sub_key, delivered, priority desc, seq)',
];

function describeColumn(c: Column): string {
  const parts = [c.name, c.type.toLowerCase()];
  if (c.notnull) parts.push('not null');
  if (c.dflt_value !== null) parts.push(`default ${c.dflt_value}`);
  if (c.pk) parts.push(`pk${c.pk}`);
  return parts.join(' ');
}

function describeIndex(sqlite: SQLite.Database, name: string, table: string): string {
  const columns = (sqlite.pragma(`index_xinfo(${name})`) as IndexColumn[])
    .filter((c) => c.key === 1)
    .map((c) => `${c.name}${c.desc ? ' desc' : ''}`);
  return `${name} on ${table} (${columns.join(', ')})`;
}

test('on SQLite the migrations make the schema they shipped with', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-migrations-'));
  const path = join(dir, 'db.sqlite');
  try {
    const store = await Store.open({ path });
    await store.close();
    const sqlite = new SQLite(path, { readonly: true });
    try {
      const objects = sqlite
        .prepare(
          "select type, name, tbl_name from sqlite_master where name not like 'kysely%' and name not like 'sqlite_%' order by name",
        )
        .all() as Array<{ type: string; name: string; tbl_name: string }>;
      const tables = Object.fromEntries(
        objects
          .filter((o) => o.type === 'table')
          .map((o) => [o.name, (sqlite.pragma(`table_info(${o.name})`) as Column[]).map(describeColumn)]),
      );
      assert.deepEqual(tables, SHIPPED);
      const indexes = objects.filter((o) => o.type === 'index').map((o) => describeIndex(sqlite, o.name, o.tbl_name));
      assert.deepEqual(indexes, SHIPPED_INDEXES);
    } finally {
      sqlite.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
