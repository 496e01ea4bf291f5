import type { ColumnType } from 'kysely';

/**
 * Every configuration object (channel, security definition, later outgoing connections and topics) is one
 * row: its kind, its unique name and its body as JSON. One table keeps the layer the same on SQLite and
 * PostgreSQL; each part validates its own bodies.
 */
export interface ConfigObjectTable {
  kind: string;
  name: string;
  body: string;
  version: number;
  created_at: ColumnType<string, string, never>;
  updated_at: string;
}

/** Small key/value facts about the database itself (e.g. whether the demo was seeded). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  config_object: ConfigObjectTable;
  meta: MetaTable;
}
