// Errors: the code table and the classes that carry a code with the status that follows from it.
export {
  CODES,
  isErrorCode,
  statusOf,
  wsxStatusOf,
  type CodeEntry,
  type CodeWithStatus,
  type ErrorCode,
  type StatusOf,
} from './codes.js';
export { SwitchboardError, ServiceError, type SwitchboardErrorOptions } from './switchboard-error.js';
export {
  BadRequestError,
  ValidationError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  ServiceNotFoundError,
  ConflictError,
  PayloadTooLargeError,
  MisdirectedRequestError,
  UnprocessableError,
  TooManyRequestsError,
  InternalError,
  ConnectionClosedError,
  TimeoutError,
  toSwitchboardError,
} from './status-errors.js';
