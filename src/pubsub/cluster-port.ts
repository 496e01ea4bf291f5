import type { PubSubMessage } from '../store/index.js';

/** What pub/sub hears from the other servers of its cluster. */
export interface PubSubClusterHandlers {
  /** GD messages were committed for these topics (`'*'`: any topic) on another server. */
  gd(topics: readonly string[] | '*'): void;
  /** A non-GD message published on another server. */
  nonGd(message: PubSubMessage): void;
  /** Another server created a subscription to the topic. */
  subscribed(topic: string): void;
  /** Another server claimed a subscription at `epoch`: a local task of an older epoch stops. */
  claimed(subKey: string, epoch: number): void;
  /** Notifications may have been missed (the LISTEN connection came back): look at the tables again. */
  resync(): void;
}

/**
 * The port through which pub/sub takes part in a cluster (implemented in src/cluster/, injected by the server):
 * this server's identity and role, and the wake-ups it sends and receives. NOTIFY only wakes; the tables carry
 * the state, so every consumer also sweeps (cluster-notes §1.2).
 */
export interface PubSubCluster {
  /** This server's incarnation, the owner written on the subscriptions it delivers. */
  readonly serverId: string;
  /** How often owned subscriptions are swept for undelivered rows, whatever NOTIFY said. */
  readonly sweepMs: number;
  /** How long an ownerless `unsub_on_wsx_close` subscription is kept before the housekeeper deletes it. */
  readonly orphanTtlMs: number;
  /** True on the one server that runs expiry and the clean-up of ownerless subscriptions. */
  isHousekeeper(): boolean;
  /** After a commit: wakes the owners of these topics' subscriptions on every server. */
  announceGd(topic: string): void;
  /** Sends a non-GD message to the other servers, at most once. */
  announceNonGd(message: PubSubMessage): void;
  /** Tells the others that this server created a subscription to the topic. */
  announceSubscribed(topic: string): void;
  /** Tells the previous owner of a subscription that it moved. */
  announceClaim(subKey: string, epoch: number): void;
  /** Starts delivering what the other servers send to `handlers`. */
  listen(handlers: PubSubClusterHandlers): void;
}
