// The cluster part: the LISTEN connection every clustered server keeps, and the view the admin API reads.
export { ClusterListener, channelName, type ClusterListenerEvents, type ClusterListenerOptions } from './listener.js';
export type { ClusterDescription, ClusterMember, ClusterView } from './view.js';
