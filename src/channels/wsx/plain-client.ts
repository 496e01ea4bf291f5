import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { BadRequestError, SwitchboardError, UnprocessableError } from '../../errors/index.js';
import { newCid, parseJsonBounded } from '../../protocol/index.js';
import { WsxClient, type ClientHost } from './client.js';
import { decodeUtf8 } from './utf8.js';

/** The error frame of plain channels: one JSON text frame. */
export function plainError(error: Pick<SwitchboardError, 'code' | 'status' | 'message'>, cid?: string): string {
  return JSON.stringify({ error: { code: error.code, status: error.status, message: error.message, ...(cid ? { cid } : {}) } });
}

/**
 * A client of a `plain` channel: each message goes to the service as is (a string, a Buffer for binary
 * frames, or parsed JSON with `dataFormat: json`), and what the service returns is sent back.
 * Services run concurrently but replies leave in the order the requests came.
 */
export class PlainClient extends WsxClient {
  readonly protocol = 'plain' as const;
  readonly hasSession = true;
  #replies: Promise<void> = Promise.resolve();
  // Messages whose reply has not been written yet (running, or done and waiting for an earlier reply).
  #unanswered = 0;

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ClientHost) {
    super(ws, socket, req, host);
    this.markReady();
  }

  protected encodePush(data: unknown): string | Buffer {
    if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
    return JSON.stringify(data);
  }

  protected encodeRequest(): undefined {
    return undefined;
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    // Over the limit the refusal leaves at once, ahead of replies still due: queueing it would make the
    // reply chain grow without bound behind one slow call.
    if (this.#unanswered >= this.host.config.maxInFlight) {
      this.write(plainError(this.tooManyRequests()));
      return;
    }
    this.#unanswered++;
    const cid = newCid();
    const result = this.#run(this.#decode(data, isBinary), cid);
    this.#replies = this.#replies
      .then(async () => {
        try {
          const reply = await result;
          if (reply !== undefined) this.write(reply);
        } finally {
          this.#unanswered--;
        }
      })
      // A failed write must not break the chain (every later reply would be lost) or escape as a rejection.
      .catch((err: unknown) => this.failed(err));
  }

  #decode(data: Buffer, isBinary: boolean): unknown {
    if (this.host.config.dataFormat !== 'json') return isBinary ? data : data.toString('utf8');
    const text = isBinary ? decodeUtf8(data) : data.toString('utf8');
    if (text === undefined) return new UnprocessableError('invalid_utf8', 'Invalid UTF-8 bytes');
    // Depth is capped before parsing: services, logging and the reply's JSON.stringify recurse.
    const json = parseJsonBounded(text);
    return json.ok ? json.value : new BadRequestError(json.code, json.message);
  }

  async #run(request: unknown, cid: string): Promise<string | Buffer | undefined> {
    if (request instanceof SwitchboardError) {
      this.host.protocolError(request.code);
      return plainError(request);
    }
    try {
      const payload = await new Promise((resolve, reject) => this.callService(request, cid, (err, value) => (err ? reject(err) : resolve(value))));
      return payload === undefined || payload === null ? undefined : this.encodePush(payload);
    } catch (err) {
      return plainError(this.logFailure(err, cid), cid);
    }
  }
}
