// The cluster part: membership, config fan-out, the LISTEN connection every clustered server keeps, and the view
// the admin API reads (standalone on SQLite).
export { ClusterListener, channelName, type ClusterListenerEvents, type ClusterListenerOptions } from './listener.js';
export type { ClusterDescription, ClusterMember, ClusterView } from './view.js';
export { Cluster, type ClusterOptions, type ClusterTimings } from './cluster.js';
export { standaloneCluster } from './standalone.js';
export type { ClusterClients, ClusterClientInfo } from './cluster-clients.js';
export type { LocalClients } from './remote-calls.js';
export type { PubSubLink, PubSubLinkHandlers, PubSubLinkOptions } from './pubsub-link.js';
