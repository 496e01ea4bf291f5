import type { ClusterView } from '../cluster/index.js';
import type { ChannelDefinitions, ChannelManager } from '../channels/wsx/index.js';
import type { OutgoingDefinitions, OutgoingManager } from '../outgoing/wsx/index.js';
import type { PubSub, TopicDefinitions } from '../pubsub/index.js';
import type { SecurityDefinitions } from '../security/index.js';
import type { Metrics } from '../observability/index.js';
import type { HotDeployer, ServiceInvoker, ServiceRegistry } from '../services/index.js';

/** What the admin API works with. */
export interface AdminContext {
  readonly version: string;
  /** This server's name (`serverName`); a function, as the default is known only once the admin listens. */
  readonly serverName: () => string;
  /** Whether the last database query reached the database (`/api/health`'s `store`). */
  readonly storeReachable: () => boolean;
  readonly channels: ChannelDefinitions;
  readonly channelManager: ChannelManager;
  readonly outgoing: OutgoingDefinitions;
  readonly outgoingManager: OutgoingManager;
  readonly pubsub: PubSub;
  readonly topics: TopicDefinitions;
  readonly security: SecurityDefinitions;
  readonly registry: ServiceRegistry;
  readonly invoker: ServiceInvoker;
  readonly deployer: HotDeployer | undefined;
  readonly metrics: Metrics | undefined;
  /** The servers sharing this one's database, for `GET /api/cluster`. */
  readonly cluster: ClusterView;
}
