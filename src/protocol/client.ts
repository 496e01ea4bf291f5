/**
 * What a WSX client needs from the protocol, and nothing Node-only: the entry the outgoing connections and the
 * client library (src/client/) use. `test/protocol-browser.test.ts` bundles this file for the
 * browser and fails if it reaches any Node built-in.
 */
export { ACTION, MSG_TYPE, CLOSE_CODE, type Action, type MsgType } from './constants.js';
export { newCid, timestamp } from './ids.js';
export {
  CLIENT_ID_PREFIX,
  clientFrameId,
  createSession,
  invokeService,
  clientResponse,
  type SessionRequest,
} from './client-frames.js';
export {
  parseServerFrame,
  sessionToken,
  pubSubDeliveries,
  jsonType,
  MAX_REMOTE_ID_LENGTH,
  type RemoteFrame,
  type RemoteReply,
  type RemoteBadReply,
  type RemoteErrorMessage,
  type RemoteRequest,
  type PubSubDelivery,
  type ServerFrameParse,
} from './server-frame-parser.js';
export { toResponse, type WsxResponse } from './response.js';
export { parseJsonBounded, exceedsJsonDepth, MAX_JSON_DEPTH, type BoundedJson } from './json.js';
export { parseUpgradeRefusal, MAX_REFUSAL_BODY, type UpgradeRefusal } from './upgrade-refusal.js';
export { decodePlain, decodeUtf8, type PlainDataFormat, type PlainDecoded } from './plain.js';
export { PendingRequests, type PendingErrors, type PendingOptions } from './pending-requests.js';
export { Heartbeat, type HeartbeatOptions } from './heartbeat.js';
export { backoffDelay, backoffCeiling, type BackoffConfig } from './backoff.js';
export { RecentIds } from './recent-ids.js';
export { PUBSUB_SERVICE } from './pubsub-services.js';
