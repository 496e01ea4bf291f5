// The messages every zato (WSX) or plain channel shares, defined once in `components.messages`.
import {
  authResponseSchema,
  clientRequestSchema,
  clientResponseSchema,
  createSessionSchema,
  errorMessageSchema,
  errorResponseSchema,
  invokeServiceMetaSchema,
  MSG_TYPE,
  invokeServiceSchema,
  okResponseMetaSchema,
  okResponseSchema,
  plainErrorSchema,
  pubsubDeliverySchema,
  type JsonSchema,
} from '../../protocol/index.js';
import type { AsyncApiObject, DocumentParts, Ref } from './parts.js';

/** A message object: its name, what it is, and the schema of the frame. */
export function message(name: string, summary: string, payload: JsonSchema, contentType?: string): AsyncApiObject {
  return { name, title: name, summary, ...(contentType === undefined ? {} : { contentType }), payload };
}

const SHARED = {
  'wsx.createSession': () =>
    message(
      'create-session',
      "The first frame of a connection, within the channel's newTokenWaitTime; again later to renew the token",
      createSessionSchema(),
    ),
  'wsx.sessionCreated': () => message(MSG_TYPE.AUTH_RESPONSE, 'The session was created: its token', authResponseSchema()),
  'wsx.errorResponse': () =>
    message(
      MSG_TYPE.ERROR_RESPONSE,
      'An error replying to a request, with its stable code (docs/protocol.md)',
      errorResponseSchema(),
    ),
  'wsx.errorMessage': () =>
    message(
      MSG_TYPE.ERROR_MESSAGE,
      'An error tied to no request, or a refused create-session (without in_reply_to; the connection is then closed)',
      errorMessageSchema(),
    ),
  'wsx.serverRequest': () =>
    message(
      MSG_TYPE.CLIENT_REQUEST,
      "A service's request to this client (this.wsx.invoke); answer it with client-response",
      clientRequestSchema(),
    ),
  'wsx.clientResponse': () =>
    message(
      'client-response',
      'The answer to a zwsx.rqc, or the acknowledgement of a zwsx.psrq (ack_mode client; in_reply_to is its meta.id)',
      clientResponseSchema(),
    ),
  'wsx.pubsubDelivery': () =>
    message(MSG_TYPE.PUBSUB_REQUEST, 'Messages of a topic this client subscribed to', pubsubDeliverySchema()),
  'plain.error': () =>
    message('error', 'An error instead of the response, with its stable code (docs/protocol.md)', plainErrorSchema()),
  'plain.push': () =>
    message('push', 'What a service sends to this client (send, broadcast): a string as text, anything else as JSON', {}),
} satisfies Record<string, () => AsyncApiObject>;

/** The key of a shared message. */
export type SharedMessage = keyof typeof SHARED;

/** The `$ref` of a shared message, which is added to the document on first use. */
export function shared(parts: DocumentParts, key: SharedMessage): Ref {
  return parts.sharedMessage(key, SHARED[key]);
}

/** An `invoke-service` frame carrying `data`, its `meta` shared by every such frame of the document. */
export function invokeFrame(parts: DocumentParts, data: JsonSchema): JsonSchema {
  return invokeServiceSchema(data, parts.sharedSchema('wsx.invoke-service.meta', invokeServiceMetaSchema));
}

/** A `zwsx.rspok` frame carrying `data`, its `meta` shared likewise. */
export function okFrame(parts: DocumentParts, data: JsonSchema): JsonSchema {
  return okResponseSchema(data, parts.sharedSchema('wsx.rspok.meta', okResponseMetaSchema));
}
