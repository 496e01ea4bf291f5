export { OutgoingManager, type OutgoingHandle, type CredentialsSource } from './manager.js';
export { OutgoingDefinitions } from './definitions.js';
export { OutgoingConnection, OutgoingClient, AcquireTimeoutError, type ConnectionState } from './connection.js';
export { OutgoingConfigSchema, normalizeOutgoing, type OutgoingConfig, type OutgoingInput } from './config.js';
export { backoffDelay, backoffCeiling } from './backoff.js';
export { NotConnectedError, type RemoteCredentials, type SocketState } from './remote-socket.js';
export type { WsxResponse } from '../../protocol/index.js';
