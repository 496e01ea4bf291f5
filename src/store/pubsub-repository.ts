/**
 * How many sequence numbers one `reserveSeqBlock()` hands out: on PostgreSQL, the `increment by` of the `pubsub_seq`
 * sequence (migration 0005), so changing it takes a migration that alters the sequence. One round trip per 100
 * publications is little beside the group-commit round's own; a larger block would let servers publishing at the
 * same time differ more from time order (each orders by its own block) and leave larger gaps after a restart.
 */
export const SEQ_BLOCK = 100;

/** Consecutive sequence numbers reserved for one server: `first` to `first + size - 1`. */
export interface SeqBlock {
  readonly first: number;
  readonly size: number;
}

/** A published message as pub/sub stores and delivers it. Times are epoch ms. */
export interface PubSubMessage {
  readonly msgId: string;
  /** Publication order across the servers of a database; ties in priority are delivered by `seq`. */
  readonly seq: number;
  readonly topicName: string;
  /** The data as JSON text (kept serialized: it is written to sockets and the store as is). */
  readonly dataJson: string;
  readonly mimeType: string;
  readonly priority: number;
  readonly pubTime: number;
  readonly expirationTime: number;
  readonly correlId: string | null;
  readonly inReplyTo: string | null;
  readonly extClientId: string | null;
  readonly size: number;
  readonly hasGd: boolean;
}

/** What a deletion freed: queue rows of the subscription, and messages no subscription needs any more. */
export interface Deleted {
  /** Queue rows deleted (of the one subscription the call was about). */
  rows: number;
  /** Messages deleted from the store. */
  messages: number;
  /** Their data bytes (`size`), for the topic's `maxBytesGd`. */
  bytes: number;
  /** True when nothing was written: the write's `epoch` is no longer the subscription's (another server owns it). */
  moved?: boolean;
}

/** A topic's stored GD messages: how many, and their data bytes. */
export interface StoredTotals {
  count: number;
  bytes: number;
}

/** What the expiry sweep deleted: per topic, and the queue rows per subscription. */
export interface Expired {
  readonly topics: Map<string, StoredTotals>;
  readonly rows: Map<string, number>;
}

/** The persisted overflow and attachment state of a subscription. */
export interface SubscriptionState {
  suspended: boolean;
  dropped: number;
  /** Since when (epoch ms) no connection is attached; null when it was attached when last saved. */
  detachedAt: number | null;
}

/** A queued GD message as a delivery task reads it. */
export interface QueuedGdMessage {
  readonly message: PubSubMessage;
  readonly deliveryCount: number;
}

/** What the store needs to know of a subscription; the rest of it is kept as is. */
export interface SubscriptionRecord {
  readonly subKey: string;
  readonly topicName: string;
  readonly createdAt: string;
}

/** A stored subscription with its persisted state. */
export interface StoredSubscription<S extends SubscriptionRecord> {
  readonly subscription: S;
  readonly state: SubscriptionState;
}

/** A subscription as a server claimed it (cluster mode): its stored row, new owner epoch and queue rows. */
export interface ClaimedSubscription<S extends SubscriptionRecord> extends StoredSubscription<S> {
  readonly epoch: number;
  /** Queue rows (sent and unacknowledged included) at the claim. */
  readonly queued: number;
}

/** What a sweep reads of a subscription this server delivers. */
export interface OwnedState {
  readonly subKey: string;
  readonly epoch: number;
  readonly queued: number;
  /** Rows not yet sent. */
  readonly pending: boolean;
}

/**
 * The pub/sub writes and reads of a cluster on PostgreSQL (cluster-notes §3.7): ownership of delivery by compare-and-
 * set on `owner_epoch`, the sweep's reads, the cluster-wide depths and the housekeeper's clean-up.
 */
/** A subscription no server owns (its server died), as the housekeeper judges it. */
export interface OwnerlessSubscription {
  readonly subKey: string;
  readonly topicName: string;
  /** Since when (epoch ms) no connection is attached. */
  readonly detachedAt: number;
  readonly unsubOnWsxClose: boolean;
}

export interface PubSubClusterStore<S extends SubscriptionRecord = SubscriptionRecord> {
  /** Stores a new subscription owned by `serverId` (null until that server is registered) at epoch 1. */
  createOwned(subscription: S, serverId: string): Promise<void>;
  /**
   * Makes `serverId` the owner (epoch + 1, attached) and requeues what was sent and not removed, in one transaction
   * that waits for any delivery round of the previous owner; undefined when there is no such subscription.
   */
  claim(subKey: string, serverId: string): Promise<ClaimedSubscription<S> | undefined>;
  /** Claims every ownerless subscription (a starting server adopts what dead ones left). */
  adoptOwnerless(serverId: string): Promise<Array<ClaimedSubscription<S>>>;
  /** The epoch, queue rows and pending flag of the given subscriptions; missing ones were deleted. */
  owned(subKeys: readonly string[]): Promise<OwnedState[]>;
  /** Depth per topic as stored in `pubsub_topic_depth`. */
  depths(): Promise<Map<string, StoredTotals>>;
  /** Folds the depth rows of processes that stopped writing them (the housekeeper's); resolves with how many. */
  foldDepths(): Promise<number>;
  /** Every ownerless subscription (a dead server's), after marking those not yet detached as detached at `now`. */
  ownerless(now: number): Promise<OwnerlessSubscription[]>;
  /** Deletes a subscription and its queue if it is still ownerless; resolves with whether it did. */
  deleteOwnerless(subKey: string): Promise<boolean>;
  /** Topics with a subscription that `serverId` does not own (another server's, or ownerless). */
  subscribedElsewhere(serverId: string): Promise<Set<string>>;
  /** Whether any server other than `serverId` is registered. */
  peers(serverId: string): Promise<boolean>;
}

/**
 * Pub/sub persistence: GD messages, subscription queues and subscriptions. Writes are queued and committed in
 * rounds ("group commit"): everything that arrives while one commit runs shares the next transaction, and each
 * write resolves only after its transaction committed. Asynchronous throughout, so that a networked database
 * (PostgreSQL) can implement it as well as SQLite.
 */
export interface PubSubRepository<S extends SubscriptionRecord = SubscriptionRecord> {
  /**
   * Reserves the next block of sequence numbers, above every number stored or reserved before on this database (by
   * any server on PostgreSQL; SQLite has one server per file), so that a restarted server continues the order.
   */
  reserveSeqBlock(): Promise<SeqBlock>;
  /** Number and bytes of stored messages per topic (read once, at start). */
  topicTotals(): Promise<Map<string, StoredTotals>>;
  /** Queue rows per subscription (read once, at start). */
  queueDepths(): Promise<Map<string, number>>;

  /**
   * Stores messages and queues them for the given subscriptions; resolves once committed. With `others` (a cluster),
   * also for every subscription of the topic not in `others.exclude` (this server's own) that is not suspended.
   */
  publish(
    messages: readonly PubSubMessage[],
    subKeys: readonly string[],
    others?: { readonly exclude: readonly string[] },
  ): Promise<void>;
  /** The next undelivered messages of a subscription, by priority (highest first), then `seq`. */
  nextBatch(subKey: string, limit: number): Promise<QueuedGdMessage[]>;
  /**
   * Records a delivery attempt before its frame is written: `msgIds` are marked as sent and their delivery count
   * raised, and `done` (the previous frame's messages) removed, in one commit.
   */
  markDelivered(subKey: string, msgIds: readonly string[], done: readonly string[], epoch?: number): Promise<Deleted>;
  /**
   * Removes delivered or acknowledged messages from a queue, and the messages no subscription needs any more. With
   * `epoch` (a cluster), nothing is written unless it is still the subscription's (`moved` says so).
   */
  acknowledge(subKey: string, msgIds: readonly string[], epoch?: number): Promise<Deleted>;
  /** Every message of the queue sent and not removed is queued again; false when `epoch` is no longer current. */
  requeue(subKey: string, epoch?: number): Promise<boolean>;
  /**
   * Drops a subscription's queue and the subscription, in one commit, freeing what no one needs; with `epoch`, only
   * while it is still the subscription's (a server deleting for its subscriber's close must not delete one that moved).
   */
  dropQueue(subKey: string, epoch?: number): Promise<Deleted>;
  /** Deletes messages expired at `now`, with their queue rows. */
  deleteExpired(now: number): Promise<Expired>;
  /** Deletes every stored message of a topic (the topic was deleted). */
  deleteTopic(topicName: string): Promise<void>;
  /** A page of a topic's stored messages, by `seq`, after `afterSeq`. */
  browse(topicName: string, afterSeq: number, limit: number): Promise<PubSubMessage[]>;

  /** Stores a new subscription. */
  createSubscription(subscription: S): Promise<void>;
  /** One stored subscription, or undefined. */
  getSubscription(subKey: string): Promise<StoredSubscription<S> | undefined>;
  /** Every stored subscription (read at start). */
  listSubscriptions(): Promise<Array<StoredSubscription<S>>>;
  /** Persists a subscription's overflow state and when it was detached. */
  saveState(subKey: string, state: SubscriptionState): Promise<void>;
  /** Records that a subscription has had no connection since `at` (epoch ms). */
  detach(subKey: string, at: number): Promise<void>;
  /** Records that a subscription has a connection again. */
  attach(subKey: string): Promise<void>;

  /** Resolves once every write queued so far has committed. */
  drain(): Promise<void>;

  /** The cluster's writes and reads; PostgreSQL only. */
  readonly cluster?: PubSubClusterStore<S>;
}
