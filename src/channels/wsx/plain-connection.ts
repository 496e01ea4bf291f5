import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { SwitchboardError } from '../../errors/index.js';
import { decodePlain, newCid } from '../../protocol/index.js';
import { ChannelConnection, type ConnectionHost } from './connection.js';
import { PushPayload } from './push-payload.js';
import { logFailure, tooManyRequests } from './service-calls.js';

/** The error frame of plain channels: one JSON text frame. */
function plainError(error: Pick<SwitchboardError, 'code' | 'status' | 'message'>, cid?: string): string {
  return JSON.stringify({ error: { code: error.code, status: error.status, message: error.message, ...(cid ? { cid } : {}) } });
}

/**
 * A connection to a `plain` channel: each message goes to the service as is (a string, a Buffer for binary
 * frames, or parsed JSON with `dataFormat: json`), and what the service returns is sent back.
 * Services run concurrently but replies leave in the order the requests came.
 */
export class PlainConnection extends ChannelConnection {
  readonly protocol = 'plain' as const;
  readonly hasSession = true;
  #replies: Promise<void> = Promise.resolve();
  // Messages whose reply has not been written yet (running, or done and waiting for an earlier reply).
  #unanswered = 0;

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ConnectionHost) {
    super(ws, socket, req, host);
    this.markReady();
  }

  protected encodePush(payload: PushPayload): string | Buffer {
    const data = payload.data;
    if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
    return payload.json as string;
  }

  protected encodeRequest(): undefined {
    return undefined;
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    // Over the limit the refusal leaves at once, ahead of replies still due: queueing it would make the
    // reply chain grow without bound behind one slow call.
    if (this.#unanswered >= this.host.config.maxInFlight) {
      this.write(plainError(tooManyRequests(this.host)));
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
    const decoded = decodePlain(data, isBinary, this.host.config.dataFormat);
    return decoded.ok ? decoded.value : new SwitchboardError(decoded.code, decoded.message);
  }

  async #run(request: unknown, cid: string): Promise<string | Buffer | undefined> {
    if (request instanceof SwitchboardError) {
      this.host.protocolError(request.code);
      return plainError(request);
    }
    try {
      const payload = await new Promise((resolve, reject) =>
        this.callService(request, cid, (err, value) => (err ? reject(err) : resolve(value))),
      );
      return payload === undefined || payload === null ? undefined : this.encodePush(new PushPayload(payload));
    } catch (err) {
      return plainError(logFailure(this.log, err, cid), cid);
    }
  }
}
