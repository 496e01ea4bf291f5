export { ChannelManager, type ChannelState } from './channel-manager.js';
export { ChannelDefinitions } from './definitions.js';
export { ChannelConfigSchema, channelDefaults, normalizeChannel, parseAddress, type ChannelConfig, type ChannelInput, type ListenAddress } from './config.js';
export { plainError } from './plain-client.js';
