import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusOf, type ErrorCode } from '../../errors/index.js';
import { upgradeRefusalBody } from '../../protocol/index.js';

/** Answers an upgrade request with the code's HTTP status and a JSON body `{ error: { code, message } }`, then closes. */
export function rejectUpgrade(socket: Duplex, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const status = statusOf(code);
  const body = upgradeRefusalBody(code, message);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
