export { Store, type ConfigChange, type PostgresLocation, type StoreDialect, type StoreOptions } from './store.js';
export { ConfigRepository, type Named } from './config-repository.js';
export type { Database } from './schema.js';
export { ChangeFollower } from './change-follower.js';
export type {
  PubSubRepository,
  PubSubMessage,
  Deleted,
  Expired,
  StoredTotals,
  SubscriptionState,
  QueuedGdMessage,
  SubscriptionRecord,
  StoredSubscription,
  SeqBlock,
  PubSubClusterStore,
  ClaimedSubscription,
  OwnedState,
} from './pubsub-repository.js';
export { createPubSubRepository } from './pubsub-repositories.js';
export {
  ClusterRepository,
  lockKey,
  type ChangeRecord,
  type LockKey,
  type MemberRow,
  type NewMember,
} from './postgres/cluster-repository.js';
export { ClientRepository, type ClientRow, type ServerClientRow } from './postgres/client-repository.js';
export { SessionConnection } from './postgres/session.js';
export { ListenConnection, type ListenConnectionOptions, type ListenEvents } from './postgres/listen-connection.js';
