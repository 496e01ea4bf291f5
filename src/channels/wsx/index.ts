export { ChannelManager, type ChannelState, type ClientClosedEvent, type ClientResponseEvent } from './channel-manager.js';
export type { MessageStats, PushTarget } from './connection.js';
export { ChannelDefinitions } from './definitions.js';
export {
  ChannelConfigSchema,
  normalizeChannel,
  withChannelDefaults,
  type ChannelConfig,
  type ChannelInput,
  type ListenAddress,
} from './config.js';
export type { RemoteClients, ServerClientInfo } from './remote-clients.js';
export { loadTlsPair, secureContextOptions, type TlsFiles, type TlsPair } from './tls-files.js';
export { TlsReloader } from './tls-watch.js';
export type { TapRegistry } from './tap-registry.js';
export { TAP_LIMITS, type TapEvent, type TapInfo, type TapSpec, type TapStopReason, type TapWatcher } from './tap-events.js';
