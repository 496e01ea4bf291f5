import type { PubSubRepository, SubscriptionRecord } from './pubsub-repository.js';
import { PostgresPubSubRepository } from './postgres/pubsub-repository.js';
import { SqlitePubSubRepository } from './sqlite/pubsub-repository.js';
import type { Store } from './store.js';

/** The pub/sub repository for the store's database. */
export function createPubSubRepository<S extends SubscriptionRecord = SubscriptionRecord>(store: Store): PubSubRepository<S> {
  if (store.dialect === 'postgres') return new PostgresPubSubRepository<S>(store);
  return new SqlitePubSubRepository<S>(store);
}
