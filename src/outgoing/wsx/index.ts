export { OutgoingManager, type OutgoingHandle, type CredentialsSource } from './manager.js';
export { OutgoingDefinitions } from './definitions.js';
export { OutgoingConnection, AcquireTimeoutError, type ConnectionState } from './connection.js';
export { OutgoingConfigSchema, normalizeOutgoing, type OutgoingConfig, type OutgoingInput } from './config.js';
export { type SocketState } from './socket-link.js';
export type { RemoteCredentials } from './zato-session.js';
export type { WsxResponse } from '../../protocol/index.js';
