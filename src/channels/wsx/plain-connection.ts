import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { SwitchboardError } from '../../errors/index.js';
import { decodePlain, newCid } from '../../protocol/index.js';
import { ChannelConnection, type ConnectionHost } from './connection.js';
import { plainError } from './plain-error.js';
import { PushPayload } from './push-payload.js';
import { handshakeAuth } from './handshake-auth.js';
import { logFailure, tooManyRequests } from './service-calls.js';

/** A reply due to the client, in request order: written once it and every earlier one are ready. */
interface DueReply {
  ready: boolean;
  frame: string | Buffer | undefined;
}

/**
 * A connection to a `plain` channel: each message goes to the service as is (a string, a Buffer for binary
 * frames, or parsed JSON with `dataFormat: json`), and what the service returns is sent back.
 * Services run concurrently but replies leave in the order the requests came.
 */
export class PlainConnection extends ChannelConnection {
  readonly protocol = 'plain' as const;
  readonly hasSession = true;
  // Messages whose reply has not been written yet (running, or done and waiting for an earlier reply), oldest first.
  readonly #due: DueReply[] = [];

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ConnectionHost) {
    super(ws, socket, req, host);
    // Before markReady: the connected hook sees the claims of the handshake's token.
    this.auth = handshakeAuth(req);
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
    // replies due grow without bound behind one slow call.
    if (this.#due.length >= this.host.config.maxInFlight) {
      this.write(plainError(tooManyRequests(this.host)));
      return;
    }
    const due: DueReply = { ready: false, frame: undefined };
    this.#due.push(due);
    const decoded = decodePlain(data, isBinary, this.host.config.dataFormat);
    if (!decoded.ok) {
      this.host.protocolError(decoded.code);
      return this.#ready(due, plainError(new SwitchboardError(decoded.code, decoded.message)));
    }
    const cid = newCid();
    // No promise in between: a synchronous service's reply is written before this returns.
    this.callService(decoded.value, cid, (err, payload) => {
      if (err) return this.#ready(due, plainError(logFailure(this.log, err, cid), cid));
      this.#ready(due, payload === undefined || payload === null ? undefined : this.encodePush(new PushPayload(payload)));
    });
  }

  // Writes every reply at the head that is ready; a reply behind one still running waits for it.
  #ready(due: DueReply, frame: string | Buffer | undefined): void {
    due.ready = true;
    due.frame = frame;
    const queue = this.#due;
    while (queue.length && queue[0]!.ready) {
      const head = queue.shift()!;
      if (head.frame !== undefined) this.write(head.frame);
    }
  }
}
