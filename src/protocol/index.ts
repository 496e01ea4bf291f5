export * from './constants.js';
export { newCid, newToken, newHexId, timestamp } from './ids.js';
export {
  parseClientFrame,
  flattenClientName,
  type ClientMessage,
  type ClientMeta,
  type FrameError,
  type ParseResult,
} from './client-message.js';
export {
  authResponse,
  okResponse,
  errorResponse,
  errorMessage,
  clientRequest,
  clientRequestEncoded,
  pingPayload,
  type ServerFrame,
  type ServerMeta,
} from './server-message.js';
export {
  CLIENT_ID_PREFIX,
  clientFrameId,
  createSession,
  invokeService,
  clientResponse,
  type SessionRequest,
  parseServerFrame,
  sessionToken,
  pubSubDeliveries,
  MAX_REMOTE_ID_LENGTH,
  type RemoteFrame,
  type RemoteReply,
  type RemoteBadReply,
  type RemoteErrorMessage,
  type RemoteRequest,
  type PubSubDelivery,
  type ServerFrameParse,
  decodePlain,
  decodeUtf8,
  type PlainDataFormat,
  type PlainDecoded,
  PendingRequests,
  type PendingErrors,
  type PendingOptions,
  Heartbeat,
  type HeartbeatOptions,
  RecentIds,
} from './client.js';
export { upgradeRefusalBody } from './upgrade-refusal.js';
export { exceedsJsonDepth, MAX_JSON_DEPTH, type BoundedJson } from './json.js';
export { toResponse, type WsxResponse } from './response.js';
export { PsrqEncoder, psrqMessageHead, PSRQ_FRAME_OVERHEAD, type PsrqMessage, type PsrqDelivery } from './pubsub-frame.js';
export { backoffDelay, backoffCeiling, type BackoffConfig } from './backoff.js';
export {
  authResponseSchema,
  clientRequestSchema,
  clientResponseSchema,
  createSessionSchema,
  errorMessageSchema,
  errorResponseSchema,
  invokeServiceMetaSchema,
  invokeServiceSchema,
  okResponseMetaSchema,
  okResponseSchema,
  plainErrorSchema,
  pubsubDeliverySchema,
  type JsonSchema,
} from './frame-schemas.js';
