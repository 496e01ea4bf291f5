import {
  PendingRequests,
  clientFrameId,
  CLIENT_ID_PREFIX,
  type RemoteBadReply,
  type RemoteReply,
  type WsxResponse,
} from '../protocol/client.js';
import { ClientError } from './errors.js';
import type { Socket } from './socket.js';

/** Options of one call. */
export interface CallOptions {
  /** Milliseconds to wait for the reply, time spent waiting for a connection included; default the client's. */
  readonly timeout?: number | undefined;
  /**
   * Whether a call written to a connection that was lost before its reply is sent again on the next one (true,
   * the default: at-least-once), or rejected with `connection_closed` (false: at-most-once, for calls that must
   * not run twice). A call that got its reply is never sent again either way.
   */
  readonly resend?: boolean | undefined;
}

/** A call's options inside the library: also a callback run the moment the reply is read. */
export interface InternalCallOptions extends CallOptions {
  readonly onReply?: (() => void) | undefined;
}

interface Call {
  readonly data: unknown;
  readonly resend: boolean;
  /** The socket the call was last written to; undefined while it waits to be (re)sent. */
  sentOn: Socket | undefined;
}

/** Writes a call's frame on the ready socket; false when it could not be written. */
export type CallWriter = (socket: Socket, id: string, data: unknown) => boolean;

/** A reply that says our session token is no longer good: the server did not run the call. */
const isBadToken = (r: WsxResponse): boolean => r.status === 401 && (r.code === 'token_expired' || r.code === 'invalid_token');

/**
 * The client's calls (`invoke-service`) across reconnects: each waits in `protocol/pending-requests.ts` for its
 * reply until its timeout; calls made while there is no session are sent once there is one, in the order made;
 * calls whose connection was lost before the reply are sent again (or rejected, `resend: false`). At most
 * `window` calls are unanswered on a connection at once (the server answers more with 429 `too_many_requests`,
 * 100 by default): the others wait their turn, in order.
 */
export class Calls {
  readonly #pending: PendingRequests<WsxResponse>;
  readonly #calls = new Map<string, Call>();
  /** Ids of calls to be sent, in the order made. */
  #unsent = new Set<string>();
  readonly #defaultTimeout: number;
  readonly #window: number;
  #inFlight = 0;
  #socket: Socket | undefined;
  #write: CallWriter | undefined;
  #closed: Error | undefined;

  constructor(options: { max: number; timeout: number; window: number }) {
    this.#defaultTimeout = options.timeout;
    this.#window = Math.max(1, options.window);
    this.#pending = new PendingRequests<WsxResponse>(options.max, {
      tooMany: (count) => new ClientError('too_many_pending', `${count} calls are waiting for their replies already`),
      timeout: (ms) => new ClientError('response_timeout', `No reply within ${ms} ms`),
    });
  }

  /** Calls waiting for their reply (sent or not). */
  get size(): number {
    return this.#calls.size;
  }

  /** Makes a call; resolves with the server's reply, whatever its status. */
  request(data: unknown, options: InternalCallOptions = {}): Promise<WsxResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = clientFrameId(CLIENT_ID_PREFIX.INVOKE);
    const reply = this.#pending.add(id, { timeoutMs: options.timeout ?? this.#defaultTimeout, onReply: options.onReply });
    if (!this.#pending.has(id)) return reply;
    const call: Call = { data, resend: options.resend ?? true, sentOn: undefined };
    this.#calls.set(id, call);
    this.#unsent.add(id);
    const forget = (): void => {
      this.#calls.delete(id);
      this.#unsent.delete(id);
      this.#unsend(call);
      this.#pump();
    };
    reply.then(forget, forget);
    this.#pump();
    return reply;
  }

  /** A session exists on `socket`: calls not yet sent go out now, in the order made, and new ones at once. */
  ready(socket: Socket, write: CallWriter): void {
    this.#socket = socket;
    this.#write = write;
    this.#inFlight = [...this.#calls.values()].filter((c) => c.sentOn === socket).length;
    this.#pump();
  }

  /** No session for now (a refresh is under way, or the socket is gone): calls wait. */
  pause(): void {
    this.#socket = undefined;
    this.#write = undefined;
  }

  /** `socket` closed: its unanswered calls wait to be sent again, or fail (`resend: false`). */
  down(socket: Socket, code: number): void {
    if (this.#socket === socket) this.pause();
    for (const [id, call] of this.#calls) {
      if (call.sentOn !== socket) continue;
      call.sentOn = undefined;
      if (call.resend) continue;
      this.#pending.fail(
        id,
        new ClientError('connection_closed', 'The connection closed before the reply came', { closeCode: code }),
        false,
      );
    }
    this.#reorder();
  }

  /** A reply frame; false when it answers none of our calls (late, or a duplicate). */
  reply(frame: RemoteReply | RemoteBadReply): boolean {
    const call = this.#calls.get(frame.inReplyTo);
    if (!call) return false;
    if (frame.kind === 'bad-reply')
      return this.#pending.fail(
        frame.inReplyTo,
        new ClientError('invalid_reply', `The reply could not be read: ${frame.reason}`),
      );
    // The server closes the socket after this reply; the call is sent again with the next session's token.
    if (isBadToken(frame.response)) {
      this.#unsend(call);
      this.#reorder();
      return true;
    }
    return this.#pending.settle(frame.inReplyTo, frame.response);
  }

  /** Rejects every call, and every later one (the client closed for good). */
  failAll(err: Error): void {
    this.#closed = err;
    this.#pending.failAll(err);
    this.#calls.clear();
    this.#unsent.clear();
  }

  /** A call no longer unanswered on the current socket frees its place in the window. */
  #unsend(call: Call): void {
    if (call.sentOn === undefined) return;
    if (call.sentOn === this.#socket) this.#inFlight--;
    call.sentOn = undefined;
  }

  /** The calls to send again go back in the queue in the order they were made, before newer ones. */
  #reorder(): void {
    this.#unsent = new Set([...this.#calls].filter(([, call]) => call.sentOn === undefined).map(([id]) => id));
  }

  /** Sends waiting calls, in order, while the window has room. */
  #pump(): void {
    const socket = this.#socket;
    const write = this.#write;
    if (!socket || !write) return;
    for (const id of this.#unsent) {
      if (this.#inFlight >= this.#window) return;
      const call = this.#calls.get(id);
      if (!call || !this.#pending.has(id)) {
        this.#unsent.delete(id);
        continue;
      }
      if (!write(socket, id, call.data)) return;
      this.#unsent.delete(id);
      call.sentOn = socket;
      this.#inFlight++;
    }
  }
}
