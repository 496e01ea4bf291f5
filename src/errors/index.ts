/**
 * Typed errors. Each has a stable `code` (what programs match on) and an HTTP-like `status`
 * (what the WSX protocol and the admin API put on the wire).
 */
export class SwitchboardError extends Error {
  /** Stable, machine-readable error code, e.g. `service_not_found`. */
  readonly code: string;
  /** HTTP-style status sent on the wire (400, 401, 403, 404, 408, 409, 413, 421, 422, 429, 431, 500, 503, 504). */
  readonly status: number;
  /** The input field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: string, status: number, message: string, options?: { field?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.field = options?.field;
  }
}

/** Malformed input: bad JSON, a missing or mistyped field. */
export class BadRequestError extends SwitchboardError {
  constructor(message: string, code = 'bad_request', field?: string) {
    super(code, 400, message, field === undefined ? undefined : { field });
  }
}

/** SimpleIO input or admin API body validation failure; names the field. */
export class ValidationError extends SwitchboardError {
  constructor(field: string, message: string, code = 'invalid_input') {
    super(code, 400, message, { field });
  }
}

/** No, invalid or expired credentials / token. */
export class UnauthorizedError extends SwitchboardError {
  constructor(message: string, code = 'unauthorized') {
    super(code, 401, message);
  }
}

/** Authenticated (or not) but not allowed to do this. */
export class ForbiddenError extends SwitchboardError {
  constructor(message: string, code = 'forbidden') {
    super(code, 403, message);
  }
}

/** An object that does not exist (a channel, a security definition, a client). */
export class NotFoundError extends SwitchboardError {
  constructor(message: string, code = 'not_found') {
    super(code, 404, message);
  }
}

/** A service name that is not deployed. */
export class ServiceNotFoundError extends SwitchboardError {
  constructor(name: string) {
    super('service_not_found', 404, `Service not found: ${name}`);
  }
}

/** An object that already exists, or a change that conflicts with current state. */
export class ConflictError extends SwitchboardError {
  constructor(message: string, code = 'conflict', field?: string) {
    super(code, 409, message, field === undefined ? undefined : { field });
  }
}

/** A message larger than the configured limit. */
export class PayloadTooLargeError extends SwitchboardError {
  constructor(message: string) {
    super('message_too_large', 413, message);
  }
}

/** A request naming a host this server does not answer for (`Host` header; DNS rebinding). */
export class MisdirectedRequestError extends SwitchboardError {
  constructor(message: string, code = 'host_not_allowed') {
    super(code, 421, message);
  }
}

/**
 * A caller over a limit: too many calls in flight on one connection (`too_many_requests`), or too many failed
 * attempts from one address (`too_many_attempts`, with `retryAfterSeconds` for the `Retry-After` header).
 */
export class TooManyRequestsError extends SwitchboardError {
  /** Seconds until the client may try again, when that is known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, code = 'too_many_requests', retryAfterSeconds?: number) {
    super(code, 429, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Well-formed but unprocessable input, e.g. bytes that are not UTF-8. */
export class UnprocessableError extends SwitchboardError {
  constructor(message: string, code = 'unprocessable') {
    super(code, 422, message);
  }
}


/** A peer that did not answer in time. */
export class TimeoutError extends SwitchboardError {
  constructor(message: string, code = 'timeout') {
    super(code, 504, message);
  }
}

/** A connection that closed while a call on it was pending. */
export class ConnectionClosedError extends SwitchboardError {
  constructor(message: string, code = 'connection_closed') {
    super(code, 503, message);
  }
}

/** A service that threw something that is not a SwitchboardError. */
export class InternalError extends SwitchboardError {
  constructor(message = 'Internal server error', cause?: unknown) {
    super('internal_error', 500, message, { cause });
  }
}

/** Wraps anything thrown into a SwitchboardError, hiding internals of unexpected errors. */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  return new InternalError('Internal server error', err);
}
