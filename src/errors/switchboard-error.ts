import { isErrorCode, statusOf, type ErrorCode } from './codes.js';

/** What an error may carry besides its code and message. */
export interface SwitchboardErrorOptions {
  /** The input field the error is about, when there is one. */
  readonly field?: string;
  /** The underlying error, kept for the log (never sent). */
  readonly cause?: unknown;
}

/**
 * Typed errors. Each has a stable `code` (what programs match on) and the `status` that follows from it in
 * `CODES` (what the WSX protocol and the admin API put on the wire). Every subclass has this constructor shape.
 */
export class SwitchboardError extends Error {
  /** Stable, machine-readable error code, e.g. `service_not_found`. */
  readonly code: string;
  /** HTTP-style status sent on the wire, from the code's entry in `CODES`. */
  readonly status: number;
  /** The input field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options?: SwitchboardErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = statusOf(code);
    this.field = options?.field;
  }
}

// An error answered with a 2xx or 3xx status would read as a success: a status outside 400-599 becomes 500.
function errorStatus(status: number): number {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/** A service's own error, with a code of its own (not one of `CODES`) and the status it chooses. */
export class ServiceError extends SwitchboardError {
  override readonly status: number;

  /** `code` is the service's; a code of `CODES` keeps the table's status, whatever `options.status` says. */
  constructor(code: string, message: string, options: SwitchboardErrorOptions & { readonly status: number }) {
    // The table types only Switchboard's own codes; a service's code is checked by its author, not by us.
    super(code as ErrorCode, message, options);
    this.status = isErrorCode(code) ? statusOf(code) : errorStatus(options.status);
  }
}
