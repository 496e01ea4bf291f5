import { SwitchboardError, type SwitchboardErrorOptions } from '../../errors/index.js';

/** The remote answered a request with a frame whose fields have the wrong type or size. */
export class InvalidReplyError extends SwitchboardError {
  declare readonly code: 'invalid_reply';
  constructor(code: 'invalid_reply', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** The remote is not reading: more than `maxBufferedBytes` are waiting to be written to it. */
export class SendBufferFullError extends SwitchboardError {
  declare readonly code: 'send_buffer_full';
  constructor(code: 'send_buffer_full', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** Cuts a text that came from a remote before it goes into a log line or the admin API's `lastError`. */
export function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
