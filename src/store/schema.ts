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

/** A guaranteed-delivery pub/sub message. Times are epoch milliseconds; `seq` orders publications. */
export interface PubSubMessageTable {
  msg_id: string;
  seq: number;
  topic_name: string;
  data: string;
  mime_type: string;
  priority: number;
  pub_time: number;
  expiration_time: number;
  correl_id: string | null;
  in_reply_to: string | null;
  ext_client_id: string | null;
  size: number;
}

/** A subscription; its settings are the JSON `body`. */
export interface PubSubSubscriptionTable {
  sub_key: string;
  topic_name: string;
  body: string;
  created_at: string;
  /** 1 while the subscription's queue is over its limit: new messages for it are dropped (and counted). */
  suspended: ColumnType<number, number | undefined, number>;
  /** Messages dropped for this subscription (overflow, or too large for its channel), since it was created. */
  dropped: ColumnType<number, number | undefined, number>;
  /** Epoch ms since when no connection is attached; null while attached. */
  detached_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** PostgreSQL only: the server holding the subscriber's socket, which delivers; null while none (cluster-notes §3.7). */
  owner_server_id?: ColumnType<string | null, string | null | undefined, string | null>;
  /** PostgreSQL only: raised by every change of owner; a delivery-state write under an older epoch writes nothing. */
  owner_epoch?: ColumnType<number, number | undefined, number>;
}

/** One message a subscription has yet to receive (or to acknowledge). */
export interface PubSubQueueTable {
  sub_key: string;
  msg_id: string;
  priority: number;
  seq: number;
  delivery_count: number;
  /** 1 once sent and awaiting the subscriber's acknowledgement (ack mode `client`). */
  delivered: ColumnType<number, number | undefined, number>;
}

/** PostgreSQL only: one live server of the cluster (cluster-notes §3.2). */
export interface ClusterServerTable {
  server_id: string;
  name: string;
  host: string;
  pid: number;
  version: string;
  internal_url: string | null;
  /** The backend pid of the server's session connection, which holds its advisory locks. */
  session_pid: number | null;
  clients: ColumnType<number, number | undefined, number>;
  started_at: ColumnType<Date, never, never>;
  heartbeat_at: ColumnType<Date, never, never>;
}

/** PostgreSQL only: one committed config write, in commit order. */
export interface ConfigChangeTable {
  id: ColumnType<number, never, never>;
  kind: string;
  name: string;
  /** The object's name after a rename; null otherwise. */
  new_name: string | null;
  op: 'create' | 'update' | 'delete';
  created_at: ColumnType<Date, never, never>;
}

/** PostgreSQL only: rows locked `for update` to order cluster-wide writes (`config`). */
export interface ClusterLockTable {
  k: string;
}

/** PostgreSQL only: one client connected to one server of the cluster (cluster-notes §3.6). */
export interface WsxClientTable {
  pub_client_id: string;
  channel_name: string;
  server_id: string;
  ext_client_id: string | null;
  ext_client_name: string | null;
  peer_address: string;
  protocol: 'zato' | 'plain';
  connected_at: ColumnType<Date, Date, never>;
}

/** PostgreSQL only: a NOTIFY payload too big for a notification, as JSON. */
export interface ClusterBlobTable {
  id: ColumnType<string, never, never>;
  data: string;
  created_at: ColumnType<Date, never, never>;
}

/** PostgreSQL only: a topic's stored GD messages and their bytes, cluster-wide (kept by every write round). */
export interface PubSubTopicDepthTable {
  topic_name: string;
  /** The writing process's shard ('' for the rows folded together); a topic's depth is the sum of its rows. */
  shard: ColumnType<string, string | undefined, string>;
  gd: number;
  bytes: number;
  updated_at: ColumnType<Date, never, never>;
}

export interface Database {
  config_object: ConfigObjectTable;
  meta: MetaTable;
  pubsub_message: PubSubMessageTable;
  pubsub_subscription: PubSubSubscriptionTable;
  pubsub_queue: PubSubQueueTable;
  pubsub_topic_depth: PubSubTopicDepthTable;
  cluster_server: ClusterServerTable;
  config_change: ConfigChangeTable;
  cluster_lock: ClusterLockTable;
  wsx_client: WsxClientTable;
  cluster_blob: ClusterBlobTable;
}
