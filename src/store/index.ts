export { Store, type ConfigChange, type StoreDialect, type StoreOptions } from './store.js';
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
} from './pubsub-repository.js';
export { createPubSubRepository } from './pubsub-repositories.js';
