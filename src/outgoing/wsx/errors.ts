import { SwitchboardError } from '../../errors/index.js';

/** The remote answered a request with a frame whose fields have the wrong type or size. */
export class InvalidReplyError extends SwitchboardError {
  constructor(name: string, reason: string) {
    super('invalid_reply', 502, `Outgoing connection ${name}: the remote's reply was malformed (${reason})`);
  }
}

/** The remote is not reading: more than `maxBufferedBytes` are waiting to be written to it. */
export class SendBufferFullError extends SwitchboardError {
  constructor(name: string, buffered: number, limit: number) {
    super('send_buffer_full', 503, `Outgoing connection ${name}: ${buffered} bytes are waiting to be written (the remote is not reading; limit ${limit})`);
  }
}

/** Cuts a text that came from a remote before it goes into a log line or the admin API's `lastError`. */
export function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
