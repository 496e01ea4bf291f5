import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  BadRequestError,
  InternalError,
  UnauthorizedError,
  UnprocessableError,
  type SwitchboardError,
} from '../../errors/index.js';
import {
  ACTION,
  CLOSE_CODE,
  authResponse,
  clientRequest,
  clientRequestEncoded,
  decodeUtf8,
  errorMessage,
  errorResponse,
  newCid,
  newToken,
  okResponse,
  parseClientFrame,
  type ClientMessage,
  type FrameError,
} from '../../protocol/index.js';
import { ChannelConnection, type ConnectionHost } from './connection.js';
import type { PushPayload } from './push-payload.js';
import { logFailure, tooManyRequests } from './service-calls.js';
import { clientAuthOf, type ClientAuth } from './handshake-auth.js';

interface Session {
  token: string;
  expiresAt: number;
}

/**
 * A connection to a `zato` channel: the WSX protocol of DESIGN.md §4. Errors are answered with error frames
 * and the connection stays open, except where Zato's clients need a close to recover: a refused
 * `create-session` (close 1008), a wrong or expired token (close 1008), no session in time (close 1008),
 * a failure while creating a session (close 1011) and invalid UTF-8 before a session (close 4001).
 */
export class ZatoConnection extends ChannelConnection {
  readonly protocol = 'zato' as const;
  #session: Session | undefined;
  #sessionTimer: NodeJS.Timeout | undefined;
  // Messages that arrive while credentials are being checked wait for the outcome, in order.
  #authenticating: Promise<void> | undefined;
  // How many of them wait; they count against `maxInFlight`, so the wait is bounded too.
  #waitingForAuth = 0;

  constructor(ws: WebSocket, socket: Duplex, req: IncomingMessage, host: ConnectionHost) {
    super(ws, socket, req, host);
    const waitMs = host.config.newTokenWaitTime * 1000;
    this.#sessionTimer = setTimeout(() => this.#noSessionInTime(), waitMs);
  }

  get hasSession(): boolean {
    return this.#session !== undefined;
  }

  protected encodePush(payload: PushPayload): string {
    return clientRequestEncoded(newCid(), payload.json);
  }

  protected encodeRequest(id: string, data: unknown): string {
    return clientRequest(id, data);
  }

  protected override onPong(): void {
    // As in Zato: each pong extends the token by one ping interval, counted from its current expiry.
    if (this.#session) this.#session.expiresAt += this.host.config.pingInterval * 1000;
  }

  protected override onClosed(): void {
    clearTimeout(this.#sessionTimer);
  }

  protected onMessage(data: Buffer, isBinary: boolean): void {
    // ws has already checked UTF-8 in text frames (bad ones close with 1007); binary frames are checked here.
    const text = isBinary ? decodeUtf8(data) : data.toString('utf8');
    if (text === undefined) return this.#invalidUtf8();
    if (this.#authenticating) {
      if (this.#waitingForAuth >= this.host.config.maxInFlight) return this.#refuseBusy(text);
      this.#waitingForAuth++;
      void this.#authenticating.then(() => {
        this.#waitingForAuth--;
        this.#handleGuarded(text);
      });
      return;
    }
    this.#handle(text);
  }

  // A message queued behind a create-session runs from a promise callback: nothing may escape it.
  #handleGuarded(text: string): void {
    try {
      this.#handle(text);
    } catch (err) {
      this.failed(err);
    }
  }

  #frameError(error: FrameError): void {
    this.host.protocolError(error.code);
    this.log.debug({ code: error.code, field: error.field }, 'Invalid frame');
    // A Zato client takes any frame with in_reply_to = its create-session id for the session (and reads an
    // undefined token from it), so errors about a create-session never carry in_reply_to.
    const replyable = error.inReplyTo !== undefined && error.inReplyTo !== '' && error.action !== ACTION.CREATE_SESSION;
    this.write(replyable ? errorResponse(error.inReplyTo!, error, newCid()) : errorMessage(error));
  }

  #handle(text: string): void {
    if (!this.isOpen) return;
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.#frameError(parsed.error);
    const message = parsed.message;
    switch (message.meta.action) {
      case ACTION.CREATE_SESSION:
        this.#authenticating = this.#createSession(message)
          .catch((err: unknown) => {
            // Refused in Zato's shape (no in_reply_to) and closed, so that the client starts over.
            this.log.error({ err }, 'Creating a session failed');
            this.#refuse(new InternalError('internal_error', 'Internal server error'), CLOSE_CODE.INTERNAL_ERROR);
          })
          .finally(() => {
            this.#authenticating = undefined;
          });
        return;
      case ACTION.INVOKE_SERVICE:
        if (!this.#checkToken(message)) return;
        // Refused at once, not queued: a client cannot make the server hold more than maxInFlight calls.
        if (this.callsInFlight >= this.host.config.maxInFlight) {
          this.write(errorResponse(message.meta.id, tooManyRequests(this.host), newCid()));
          return;
        }
        this.#invoke(message);
        return;
      case ACTION.CLIENT_RESPONSE:
        if (this.#checkToken(message)) this.#clientResponse(message);
        return;
    }
  }

  async #createSession(message: ClientMessage): Promise<void> {
    const { meta } = message;
    const securityName = this.host.config.security;
    if (securityName) {
      const result = await this.host.security.authenticate(securityName, { username: meta.username, secret: meta.secret });
      // Every failed check is the same invalid_credentials to the client (an attacker learns nothing of which one).
      const refusal = result.ok ? this.#identityChange(clientAuthOf(result)) : result.reason;
      if (refusal !== undefined) {
        this.log.debug({ reason: refusal }, 'create-session credentials refused');
        return this.#refuse(new UnauthorizedError('invalid_credentials', 'Invalid credentials'));
      }
      if (!this.isOpen) return;
      // A repeated create-session with a fresh JWT is its refresh: the new claims and expiry replace the old.
      this.auth = clientAuthOf(result);
    }
    if (!this.isOpen) return;
    clearTimeout(this.#sessionTimer);
    // A cleared Timeout kept in the field would stay in memory as long as the connection (~200 bytes).
    this.#sessionTimer = undefined;
    const wasNew = this.#session === undefined;
    this.#session = { token: newToken(), expiresAt: Date.now() + this.host.config.tokenTtl * 1000 };
    if (meta.client_id !== undefined) this.extClientId = meta.client_id;
    if (meta.client_name !== undefined) this.extClientName = meta.client_name;
    this.write(authResponse(meta.id, this.#session.token));
    // A repeated create-session renews the token; unlike Zato it does not register the client twice.
    if (wasNew) this.markReady();
  }

  // A refresh must not switch identity: a session opened by a JWT keeps its `sub` (undefined: no change).
  #identityChange(next: ClientAuth | undefined): string | undefined {
    const current = this.auth;
    if (!current || !next || current.claims.sub === next.claims.sub) return undefined;
    return 'a refreshed token has another sub';
  }

  #checkToken(message: ClientMessage): boolean {
    const { meta } = message;
    const session = this.#session;
    let error: SwitchboardError | undefined;
    if (!session) error = new UnauthorizedError('session_required', 'Create a session first (meta.action "create-session")');
    else if (meta.token !== session.token) error = new UnauthorizedError('invalid_token', 'Missing or invalid meta.token');
    else if (Date.now() > session.expiresAt)
      error = new UnauthorizedError('token_expired', 'The session token has expired; create a new session');
    if (!error) return true;
    this.host.protocolError(error.code);
    this.write(errorResponse(meta.id, error, newCid()));
    // As in Zato, a wrong or expired token ends the connection: Zato's clients create a new session only when
    // the socket closes, so an open socket would fail every later call. The error frame still says why.
    if (session) {
      this.log.info({ code: error.code, peer: this.peerAddress }, 'Closing a connection with a bad session token');
      this.close(CLOSE_CODE.POLICY, error.message);
    }
    return false;
  }

  #invoke(message: ClientMessage): void {
    const cid = newCid();
    this.callService(message.data, cid, (err, payload) => {
      // The reply's meta.id is the call's cid, so a frame can be found in the logs by its id.
      if (!err) this.write(okResponse(message.meta.id, payload, cid));
      else this.write(errorResponse(message.meta.id, logFailure(this.log, err, cid), cid));
    });
  }

  #clientResponse(message: ClientMessage): void {
    const inReplyTo = message.meta.in_reply_to;
    const data = message.data;
    const response =
      typeof data === 'object' && data !== null && 'response' in data ? (data as { response: unknown }).response : data;
    if (!inReplyTo) {
      this.write(
        errorResponse(
          message.meta.id,
          new BadRequestError('missing_in_reply_to', 'meta.in_reply_to is required in a client-response'),
          newCid(),
        ),
      );
      return;
    }
    if (!this.settleRequest(inReplyTo, response)) this.host.unclaimedResponse(this, inReplyTo, response);
  }

  // A frame that would wait behind the credentials check beyond the limit: its own error frame, nothing kept.
  #refuseBusy(text: string): void {
    const error = tooManyRequests(this.host);
    const parsed = parseClientFrame(text);
    this.write(parsed.ok ? errorResponse(parsed.message.meta.id, error, newCid()) : errorMessage(error));
  }

  /**
   * Refuses a session as Zato 3.2 does: a `zwsx.merr` with no `in_reply_to` (Zato's clients match replies by
   * it and would take anything else for the session), then a close frame.
   */
  #refuse(error: SwitchboardError, code: number = CLOSE_CODE.POLICY): void {
    if (error.status < 500) this.log.info({ code: error.code, peer: this.peerAddress }, 'Session refused');
    this.host.protocolError(error.code);
    this.write(errorMessage(error));
    this.close(code, error.message);
  }

  #invalidUtf8(): void {
    this.host.protocolError('invalid_utf8');
    if (!this.#session) {
      this.close(CLOSE_CODE.INVALID_UTF8, 'Invalid UTF-8');
      return;
    }
    this.write(errorMessage(new UnprocessableError('invalid_utf8', 'Invalid UTF-8 bytes')));
  }

  #noSessionInTime(): void {
    if (this.#session || !this.isOpen) return;
    const seconds = this.host.config.newTokenWaitTime;
    this.#refuse(new UnauthorizedError('session_timeout', `No session was created within ${seconds} s`));
  }
}
