import type { PubSubRepository, SubscriptionRecord } from './pubsub-repository.js';
import { SqlitePubSubRepository } from './sqlite/pubsub-repository.js';
import type { Store } from './store.js';

/** The pub/sub repository for the store's database. */
export function createPubSubRepository<S extends SubscriptionRecord = SubscriptionRecord>(store: Store): PubSubRepository<S> {
  return new SqlitePubSubRepository<S>(store);
}
