export * from './constants.js';
export { newCid, newToken, newHexId, timestamp } from './ids.js';
export { parseClientFrame, flattenClientName, type ClientMessage, type ClientMeta, type FrameError, type ParseResult } from './client-message.js';
export {
  authResponse,
  okResponse,
  errorResponse,
  errorMessage,
  clientRequest,
  pingPayload,
  type ServerFrame,
  type ServerMeta,
} from './server-message.js';
export { parseJsonBounded, exceedsJsonDepth, MAX_JSON_DEPTH, type BoundedJson } from './json.js';
export { toResponse, type WsxResponse } from './response.js';
export { PsrqEncoder, psrqMessageHead, psrqDeliverySuffix, PSRQ_FRAME_OVERHEAD, type PsrqMessage, type PsrqDelivery } from './pubsub-frame.js';
