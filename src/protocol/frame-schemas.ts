// The WSX frames as JSON Schemas (draft 07), for documents that describe a channel to its clients (the AsyncAPI
// document). Kept next to the builders and parsers, from the same constants, so that the description cannot name
// another action, message type or limit than the code uses.
import { ACTION, MAX_META_LENGTH, MSG_TYPE, TOKEN_PREFIX } from './constants.js';

/** A JSON Schema (draft 07) as a plain object. */
export type JsonSchema = { readonly [keyword: string]: unknown };

type Properties = Record<string, JsonSchema>;

const text = (maxLength: number, description: string): JsonSchema => ({ type: 'string', maxLength, description });
const constant = (value: string | number, description?: string): JsonSchema => ({
  const: value,
  ...(description === undefined ? {} : { description }),
});

const CLIENT_ID: JsonSchema = {
  anyOf: [{ type: 'string', maxLength: MAX_META_LENGTH.id }, { type: 'number' }],
  description: "the frame's id, echoed in the reply's in_reply_to (a finite number is taken as its text)",
};
const CLIENT_TIMESTAMP = text(MAX_META_LENGTH.timestamp, 'when the client sent the frame (ISO 8601)');
const TOKEN: JsonSchema = {
  type: 'string',
  maxLength: MAX_META_LENGTH.token,
  pattern: `^${TOKEN_PREFIX.replace('.', '\\.')}`,
  description: 'the session token of zwsx.rspa',
};
const SCALAR: JsonSchema = { type: ['string', 'number', 'boolean', 'null'] };

const SERVER_ID: JsonSchema = { type: 'string', description: "the frame's id (a service response: the call's cid)" };
const SERVER_TIMESTAMP: JsonSchema = { type: 'string', format: 'date-time', description: 'ISO 8601, UTC' };
const IN_REPLY_TO: JsonSchema = { type: 'string', description: 'meta.id of the frame this answers' };
const STATUS: JsonSchema = { type: 'integer', description: "Zato's status: 400, 401, 403, 404, 413, 422, 429, 500, …" };
const ERROR_FIELDS: Properties = {
  status: STATUS,
  error_message: { type: 'string' },
  code: { type: 'string', description: 'the stable error code (docs/protocol.md), a Switchboard addition' },
};

function object(properties: Properties, required: readonly string[], description?: string): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    ...(description === undefined ? {} : { description }),
  };
}

/** `{ meta, data }` with `data` described by `data`, required when `dataRequired`. */
function frame(meta: JsonSchema, data: JsonSchema | undefined, dataRequired = false): JsonSchema {
  const properties: Properties = data === undefined ? { meta } : { meta, data };
  return object(properties, dataRequired ? ['meta', 'data'] : ['meta']);
}

function serverMeta(msgType: string, extra: Properties = {}, required: readonly string[] = []): JsonSchema {
  return object({ id: SERVER_ID, timestamp: SERVER_TIMESTAMP, msg_type: constant(msgType), ...extra }, [
    'id',
    'timestamp',
    'msg_type',
    ...required,
  ]);
}

/** `create-session`: the first frame of a connection; `username`/`secret` when the channel has security. */
export function createSessionSchema(): JsonSchema {
  const meta = object(
    {
      action: constant(ACTION.CREATE_SESSION),
      id: CLIENT_ID,
      timestamp: CLIENT_TIMESTAMP,
      username: text(MAX_META_LENGTH.username, 'basic_auth: the user name'),
      secret: text(MAX_META_LENGTH.secret, 'the password, API key or JWT'),
      client_id: {
        anyOf: [{ type: 'string', maxLength: MAX_META_LENGTH.client_id }, { type: 'number' }],
        description: 'a stable id: subscriptions are resumed by the client that made them',
      },
      client_name: {
        anyOf: [SCALAR, { type: 'object', additionalProperties: SCALAR }],
        description: `an object is flattened to "k: v; k2: v2"; at most ${MAX_META_LENGTH.client_name} characters`,
      },
    },
    ['action', 'id'],
  );
  return frame(meta, {});
}

/** The `meta` of `invoke-service`. */
export function invokeServiceMetaSchema(): JsonSchema {
  return object({ action: constant(ACTION.INVOKE_SERVICE), id: CLIENT_ID, timestamp: CLIENT_TIMESTAMP, token: TOKEN }, [
    'action',
    'id',
    'token',
  ]);
}

/**
 * `invoke-service`: a request to the channel's service; `data` is the request. `meta` is for a caller that shares
 * one schema of {@link invokeServiceMetaSchema} between many frames (a `$ref`).
 */
export function invokeServiceSchema(data: JsonSchema, meta: JsonSchema = invokeServiceMetaSchema()): JsonSchema {
  return frame(meta, data);
}

/** `client-response`: the answer to a `zwsx.rqc`, or the acknowledgement of a `zwsx.psrq` (`in_reply_to` its id). */
export function clientResponseSchema(response: JsonSchema = {}): JsonSchema {
  const meta = object(
    {
      action: constant(ACTION.CLIENT_RESPONSE, 'may be left out: a meta without action is a client-response'),
      id: CLIENT_ID,
      timestamp: CLIENT_TIMESTAMP,
      token: TOKEN,
      in_reply_to: { type: 'string', maxLength: MAX_META_LENGTH.in_reply_to, description: 'meta.id of the request' },
    },
    ['id', 'in_reply_to'],
  );
  return frame(meta, object({ response }, []));
}

/** `zwsx.rspa`: the session was created. */
export function authResponseSchema(): JsonSchema {
  const meta = serverMeta(MSG_TYPE.AUTH_RESPONSE, { status: constant(200), in_reply_to: IN_REPLY_TO }, ['status', 'in_reply_to']);
  return frame(meta, object({ token: TOKEN }, ['token']), true);
}

/** The `meta` of `zwsx.rspok`. */
export function okResponseMetaSchema(): JsonSchema {
  return serverMeta(MSG_TYPE.OK_RESPONSE, { status: constant(200), in_reply_to: IN_REPLY_TO }, ['status', 'in_reply_to']);
}

/** `zwsx.rspok`: a service's response (`data` is its payload, absent when it returned nothing); `meta` as above. */
export function okResponseSchema(data: JsonSchema, meta: JsonSchema = okResponseMetaSchema()): JsonSchema {
  return frame(meta, data);
}

/** `zwsx.rsperr`: an error replying to a request. */
export function errorResponseSchema(): JsonSchema {
  const meta = serverMeta(MSG_TYPE.ERROR_RESPONSE, { ...ERROR_FIELDS, in_reply_to: IN_REPLY_TO }, [
    'status',
    'in_reply_to',
    'error_message',
    'code',
  ]);
  return frame(meta, object({ cid: { type: 'string' }, code: { type: 'string' } }, ['cid', 'code']), true);
}

/** `zwsx.merr`: an error tied to no request, or a refused `create-session` (then without `in_reply_to`). */
export function errorMessageSchema(): JsonSchema {
  const meta = serverMeta(MSG_TYPE.ERROR_MESSAGE, { ...ERROR_FIELDS, in_reply_to: IN_REPLY_TO }, [
    'status',
    'error_message',
    'code',
  ]);
  return frame(meta, { type: 'string', description: 'the error message' });
}

/** `zwsx.rqc`: a request from a service to the client, answered with `client-response`. */
export function clientRequestSchema(data: JsonSchema = {}): JsonSchema {
  return frame(serverMeta(MSG_TYPE.CLIENT_REQUEST), data);
}

/** One message of a `zwsx.psrq` delivery; `topicName` pins `topic_name` to one topic. */
function deliveredMessage(topicName: string | undefined): JsonSchema {
  return object(
    {
      msg_id: { type: 'string', pattern: '^zpsm', description: 'acknowledge it (ack_mode client) with in_reply_to' },
      topic_name: topicName === undefined ? { type: 'string' } : constant(topicName),
      data: { description: 'what was published' },
      priority: { type: 'integer', minimum: 1, maximum: 9 },
      pub_time_iso: SERVER_TIMESTAMP,
      expiration_time_iso: SERVER_TIMESTAMP,
      mime_type: { type: 'string' },
      size: { type: 'integer', minimum: 0, description: 'bytes of the JSON of data' },
      correl_id: { type: 'string' },
      in_reply_to: { type: 'string' },
      ext_client_id: { type: 'string' },
      delivery_count: { type: 'integer', minimum: 1, description: 'raised on every delivery again' },
      sub_key: { type: 'string', description: 'the subscription it is delivered to' },
    },
    [
      'msg_id',
      'topic_name',
      'data',
      'priority',
      'pub_time_iso',
      'expiration_time_iso',
      'mime_type',
      'size',
      'delivery_count',
      'sub_key',
    ],
  );
}

/**
 * `zwsx.psrq`: a pub/sub delivery, one message (its `meta.id` is the `msg_id`) or a batch (a list, with an id of
 * its own that acknowledges it whole).
 */
export function pubsubDeliverySchema(topicName?: string): JsonSchema {
  const message = deliveredMessage(topicName);
  return frame(serverMeta(MSG_TYPE.PUBSUB_REQUEST), { oneOf: [message, { type: 'array', items: message }] }, true);
}

/** A plain channel's error frame: `{ "error": { code, status, message, cid } }`. */
export function plainErrorSchema(): JsonSchema {
  const error = object(
    { code: { type: 'string' }, status: { type: 'integer' }, message: { type: 'string' }, cid: { type: 'string' } },
    ['code', 'status', 'message'],
  );
  return object({ error }, ['error']);
}
