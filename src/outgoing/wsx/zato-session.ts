import type { WebSocket } from 'ws';
import { SwitchboardError, TimeoutError } from '../../errors/index.js';
import {
  CLIENT_ID_PREFIX,
  PendingRequests,
  clientFrameId,
  clientResponse,
  createSession,
  invokeService,
  sessionToken,
  type RemoteBadReply,
  type RemoteReply,
  type WsxResponse,
} from '../../protocol/index.js';
import { InvalidReplyError, clip } from './errors.js';
import type { SocketLink } from './socket-link.js';

/** Credentials sent in `create-session` to a Zato-protocol remote. */
export interface RemoteCredentials {
  readonly username: string | undefined;
  readonly secret: string;
}

/** A reply saying that our session token is no longer good (expired, or the remote forgot it). */
const isBadToken = (r: WsxResponse): boolean => r.status === 401 && (r.code === 'token_expired' || r.code === 'invalid_token');

/**
 * The Zato session of one socket: `create-session` and its token, requests correlated with their replies (with
 * one transparent renewal of an expired session), and answers to the remote's own requests (`zwsx.rqc`).
 */
export class ZatoSession {
  readonly #link: SocketLink;
  readonly #credentials: () => Promise<RemoteCredentials | undefined>;
  readonly #pending: PendingRequests<WsxResponse>;
  #token: string | undefined;
  #waiter: { id: string; resolve(ok: boolean): void } | undefined;
  #inFlight: Promise<boolean> | undefined;

  constructor(link: SocketLink, credentials: () => Promise<RemoteCredentials | undefined>) {
    this.#link = link;
    this.#credentials = credentials;
    const { name, responseTimeout, maxPendingRequests } = link.config;
    this.#pending = new PendingRequests<WsxResponse>(maxPendingRequests, {
      tooMany: (count) =>
        new SwitchboardError('too_many_pending', `Outgoing connection ${name} has ${count} requests waiting for replies`),
      timeout: () => new TimeoutError('response_timeout', `No reply from ${name} within ${responseTimeout} s`),
    });
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The session token, while there is a session. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Sends `invoke-service` and resolves with the reply; renews an expired session once, transparently. */
  async request(data: unknown): Promise<WsxResponse> {
    const response = await this.requestOnce(data);
    if (!isBadToken(response)) return response;
    this.#link.log.info({ code: response.code }, 'Session expired on the remote; creating a new one');
    if (await this.create()) return this.requestOnce(data);
    // Zato (and Switchboard since issue 10) close the socket after a bad-token error: the reconnect creates the
    // new session, so the call is retried once that is done.
    if (!(await this.#link.whenConnected(this.#link.config.responseTimeout * 1000))) return response;
    return this.requestOnce(data);
  }

  /**
   * Sends `invoke-service` once and resolves with the reply. Async so that every failure, "not connected"
   * included, is a rejection: callers in timers and `void` chains must never see a synchronous throw.
   */
  async requestOnce(data: unknown, onReply?: () => void): Promise<WsxResponse> {
    const ws = this.#link.writable();
    const id = clientFrameId(CLIENT_ID_PREFIX.INVOKE);
    const reply = this.#pending.add(id, { timeoutMs: this.#link.config.responseTimeout * 1000, onReply });
    if (this.#pending.has(id)) {
      this.#link.stats.messagesOut++;
      ws.send(invokeService(id, this.#token, data));
    }
    return reply;
  }

  /** Sends `invoke-service` without waiting for the reply (unsubscribing while the socket closes). */
  sendWithoutReply(ws: WebSocket, data: unknown): void {
    ws.send(invokeService(clientFrameId(CLIENT_ID_PREFIX.INVOKE), this.#token, data));
  }

  /**
   * Sends `create-session` and waits for `zwsx.rspa`; false (with `lastError`) when refused or unanswered.
   * One session request at a time: requests that all hear `token_expired` share it (a second waiter would
   * replace the first, whose caller would then wait for ever).
   */
  create(): Promise<boolean> {
    this.#inFlight ??= this.#requestSession().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  /** A reply frame: to the session request, or to one of the pending requests. */
  onReply(frame: RemoteReply | RemoteBadReply): void {
    if (this.#waiter?.id === frame.inReplyTo) return this.#onSessionReply(frame);
    if (frame.kind === 'reply') {
      if (this.#pending.settle(frame.inReplyTo, frame.response)) return;
    } else if (
      this.#pending.fail(
        frame.inReplyTo,
        new InvalidReplyError(
          'invalid_reply',
          `Outgoing connection ${this.#link.config.name}: the remote's reply was malformed (${frame.reason})`,
        ),
      )
    ) {
      this.#link.ignore(`a reply: ${frame.reason}`);
      return;
    }
    // A late reply after our timeout, a reply to a request sent without waiting, or a duplicate.
    this.#link.log.debug({ inReplyTo: clip(frame.inReplyTo, 100) }, 'A reply to no pending request; ignored');
  }

  /** A `zwsx.merr` not tied to a request: while a session is awaited, it is the refusal (Zato's Forbidden). */
  onErrorMessage(text: string): void {
    this.#link.setLastError(text);
    if (this.#waiter) this.#endWait(undefined, text);
  }

  /** A server → client request: the MESSAGE hook's result goes back as the client-response. */
  async answer(ws: WebSocket, id: string, handle: () => Promise<unknown>): Promise<void> {
    let response: unknown;
    try {
      response = await handle();
    } catch {
      response = null;
    }
    if (!this.#link.isCurrent(ws)) return;
    let frame: string;
    try {
      frame = clientResponse(id, this.#token, response);
    } catch (err) {
      // A hook that returns what JSON cannot hold (a cycle, a BigInt, the remote's own 100k-deep data).
      this.#link.log.warn(
        { err, service: this.#link.config.onMessageService },
        'The MESSAGE hook returned a value that is not JSON; answering null',
      );
      frame = clientResponse(id, this.#token, null);
    }
    this.#link.sendOwn(ws, frame);
  }

  /** Acknowledges a pub/sub delivery (`zwsx.psrq`) with a null client-response. */
  acknowledge(ws: WebSocket, id: string): void {
    this.#link.sendOwn(ws, clientResponse(id, this.#token, null));
  }

  /** The socket closed or was stopped: the token is gone and every waiting request fails with `err`. */
  end(err: Error): void {
    this.#token = undefined;
    this.#endWait(undefined);
    this.#pending.failAll(err);
  }

  async #requestSession(): Promise<boolean> {
    const link = this.#link;
    const ws = link.current();
    if (!ws || !link.isCurrent(ws)) return false;
    let credentials: RemoteCredentials | undefined;
    try {
      credentials = await this.#credentials();
    } catch (err) {
      link.setLastError(`Cannot read credentials: ${clip(err instanceof Error ? err.message : 'unknown error')}`);
      return false;
    }
    if (!link.isCurrent(ws)) return false;
    const id = clientFrameId(CLIENT_ID_PREFIX.SESSION);
    const { name, connectTimeout } = link.config;
    const answered = new Promise<boolean>((resolve) => {
      this.#waiter = { id, resolve };
      link.after(connectTimeout * 1000, () => {
        if (this.#waiter?.id !== id) return;
        this.#waiter = undefined;
        link.setLastError(`No session reply within ${connectTimeout} s`);
        resolve(false);
      });
    });
    // A stable client_id lets this connection resume its remote subscriptions from a new socket.
    ws.send(createSession(id, { clientId: `switchboard.${name}.${link.index}`, clientName: `switchboard:${name}`, credentials }));
    return answered;
  }

  #onSessionReply(frame: RemoteReply | RemoteBadReply): void {
    const result = frame.kind === 'bad-reply' ? { error: frame.reason } : sessionToken(frame);
    if ('token' in result) return this.#endWait(result.token);
    this.#endWait(undefined, `Session refused by the remote: ${clip(result.error)}`);
  }

  /** Ends the wait for `zwsx.rspa`: with a token, or with the reason it was refused (then `lastError`). */
  #endWait(token: string | undefined, refusal?: string): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined;
    if (token !== undefined) {
      this.#token = token;
      waiter.resolve(true);
      return;
    }
    if (refusal !== undefined) this.#link.setLastError(refusal);
    waiter.resolve(false);
  }
}
