import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { SwitchboardError, TooManyRequestsError, statusOf, type ErrorCode } from '../errors/index.js';

/** The admin API's error body: `{ "error": { "code", "message", "field" } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

function body(code: string, message: string, field?: string): ApiErrorBody {
  return { error: field ? { code, message, field } : { code, message } };
}

/** Answers with `code`'s status from the table and the API's error body. */
function send(reply: FastifyReply, code: ErrorCode, message: string, field?: string): FastifyReply {
  return reply.status(statusOf(code)).send(body(code, message, field));
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
  message?: string;
}

// Ajv reports `/address` or `{ missingProperty: 'name' }`; the API names the field as `address` / `name`.
function fieldOf(err: AjvError): string | undefined {
  const path = (err.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const extra = err.params?.missingProperty ?? err.params?.additionalProperty;
  if (extra) return path ? `${path}.${extra}` : extra;
  return path || undefined;
}

function validationMessage(err: AjvError, field: string | undefined): string {
  if (err.keyword === 'additionalProperties') return `Unknown field: ${field}`;
  if (err.keyword === 'required') return `Missing required field: ${field}`;
  return field ? `${field} ${err.message ?? 'is invalid'}` : (err.message ?? 'Invalid request');
}

// fastify's own client errors, under codes of this API (its `FST_ERR_…` names are not part of our contract).
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'bad_request',
};

/** Headers that tell the client what to do next: how to authenticate, when to try again. */
function adviceHeaders(reply: FastifyReply, error: SwitchboardError): void {
  if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="switchboard"');
  if (error instanceof TooManyRequestsError && error.retryAfterSeconds !== undefined)
    reply.header('Retry-After', String(error.retryAfterSeconds));
}

/** Maps every error to the API's error shape; logs only what is unexpected (5xx). */
export function errorHandler(logger: Logger) {
  return (error: FastifyError | SwitchboardError | Error, _req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof SwitchboardError) {
      if (error.status >= 500) logger.error({ err: error.cause ?? error, code: error.code }, 'Admin API call failed');
      adviceHeaders(reply, error);
      return reply.status(error.status).send(body(error.code, error.message, error.field));
    }
    const fe = error as FastifyError & { validation?: AjvError[] };
    if (fe.validation?.length) {
      const first = fe.validation[0] as AjvError;
      const field = fieldOf(first);
      return send(reply, 'invalid_body', validationMessage(first, field), field);
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error instanceof SyntaxError && fe.statusCode === 400)) {
      return send(reply, 'invalid_json', 'The request body is not valid JSON');
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return send(reply, 'invalid_json', 'The request body is empty');
    if (fe.statusCode && fe.statusCode < 500) {
      // A fastify client error we have no code for is a bad request: every code the API sends is in the table.
      const code = FASTIFY_CODES[fe.code];
      if (!code) logger.warn({ err: error, fastifyCode: fe.code }, 'Admin API: a fastify client error without a code of ours');
      return send(reply, code ?? 'bad_request', fe.message);
    }
    logger.error({ err: error }, 'Admin API call failed');
    return send(reply, 'internal_error', 'Internal server error');
  };
}

/** The body of a 404 for an unknown route. */
export function notFoundBody(method: string, url: string): ApiErrorBody {
  return body('not_found', `No such endpoint: ${method} ${url}`);
}
