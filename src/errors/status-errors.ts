import type { CodeWithStatus } from './codes.js';
import { SwitchboardError, type SwitchboardErrorOptions } from './switchboard-error.js';

// One subclass per status, for `instanceof`. Each accepts only the codes of its status in CODES, so a subclass
// and its code cannot disagree about the status: `new NotFoundError('topic_full', …)` does not compile.

/** Malformed input: bad JSON, a missing or mistyped field. */
export class BadRequestError extends SwitchboardError {
  declare readonly code: CodeWithStatus<400>;
  constructor(code: CodeWithStatus<400>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** SimpleIO input or admin API body validation failure; names the field. */
export class ValidationError extends SwitchboardError {
  declare readonly code: CodeWithStatus<400>;
  declare readonly field: string;
  constructor(code: CodeWithStatus<400>, message: string, options: SwitchboardErrorOptions & { readonly field: string }) {
    super(code, message, options);
  }
}

/** No, invalid or expired credentials / token. */
export class UnauthorizedError extends SwitchboardError {
  declare readonly code: CodeWithStatus<401>;
  constructor(code: CodeWithStatus<401>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** Authenticated (or not) but not allowed to do this. */
export class ForbiddenError extends SwitchboardError {
  declare readonly code: CodeWithStatus<403>;
  constructor(code: CodeWithStatus<403>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** An object that does not exist (a channel, a security definition, a client). */
export class NotFoundError extends SwitchboardError {
  declare readonly code: CodeWithStatus<404>;
  constructor(code: CodeWithStatus<404>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A service name that is not deployed. */
export class ServiceNotFoundError extends NotFoundError {
  declare readonly code: 'service_not_found';
  constructor(code: 'service_not_found', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** An object that already exists, or a change that conflicts with current state. */
export class ConflictError extends SwitchboardError {
  declare readonly code: CodeWithStatus<409>;
  constructor(code: CodeWithStatus<409>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A message or body larger than the configured limit. */
export class PayloadTooLargeError extends SwitchboardError {
  declare readonly code: CodeWithStatus<413>;
  constructor(code: CodeWithStatus<413>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A request naming a host this server does not answer for (`Host` header; DNS rebinding). */
export class MisdirectedRequestError extends SwitchboardError {
  declare readonly code: CodeWithStatus<421>;
  constructor(code: CodeWithStatus<421>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** Well-formed but unprocessable input, e.g. bytes that are not UTF-8. */
export class UnprocessableError extends SwitchboardError {
  declare readonly code: CodeWithStatus<422>;
  constructor(code: CodeWithStatus<422>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/**
 * A caller over a limit: too many calls in flight on one connection (`too_many_requests`), or too many failed
 * attempts from one address (`too_many_attempts`, with `retryAfterSeconds` for the `Retry-After` header).
 */
export class TooManyRequestsError extends SwitchboardError {
  declare readonly code: CodeWithStatus<429>;
  /** Seconds until the client may try again, when that is known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: CodeWithStatus<429>,
    message: string,
    options?: SwitchboardErrorOptions & { readonly retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** A failure on our side: a bug, or something thrown that is not a SwitchboardError. */
export class InternalError extends SwitchboardError {
  declare readonly code: CodeWithStatus<500>;
  constructor(code: CodeWithStatus<500>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A connection that closed, or is not open, while a call needed it. */
export class ConnectionClosedError extends SwitchboardError {
  declare readonly code: CodeWithStatus<503>;
  constructor(code: CodeWithStatus<503>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A peer that did not answer in time. */
export class TimeoutError extends SwitchboardError {
  declare readonly code: CodeWithStatus<504>;
  constructor(code: CodeWithStatus<504>, message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** Wraps anything thrown into a SwitchboardError: an unexpected error becomes `internal_error`, its details hidden. */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  return new InternalError('internal_error', 'Internal server error', { cause: err });
}
