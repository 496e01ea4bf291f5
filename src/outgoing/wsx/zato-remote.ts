import type { WebSocket } from 'ws';
import { MSG_TYPE, parseServerFrame, type RemoteFrame, type WsxResponse } from '../../protocol/index.js';
import { clip } from './errors.js';
import { RemoteDeliveries } from './remote-deliveries.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import { RemoteSubscriptions } from './remote-subscriptions.js';
import type { SocketLink } from './socket-link.js';
import { ZatoSession, type RemoteCredentials } from './zato-session.js';

/** What the Zato side of a socket is given when the socket is made. */
export interface ZatoRemoteOptions {
  readonly link: SocketLink;
  readonly credentials: () => Promise<RemoteCredentials | undefined>;
  /** The MESSAGE hook: a pub/sub message (`isRequest` false) or a server request whose answer is sent back. */
  readonly message: (data: unknown, isRequest: boolean) => Promise<unknown>;
  /** Runs a hook call within the socket's `maxConcurrentMessages`. */
  readonly runHook: (ws: WebSocket, task: () => Promise<void>) => void;
  /** Only the first socket of a pool holds `subscriptionList` (else a pool would get every message once per socket). */
  readonly subscriptions: { readonly store: RemoteSubKeyStore | undefined } | undefined;
}

/**
 * The WSX protocol side of one socket to a Zato-protocol remote: its session, its pub/sub deliveries and, on the
 * first socket of a pool, its subscriptions; reads every text frame and hands it to the one it is for.
 */
export class ZatoRemote {
  readonly session: ZatoSession;
  readonly #link: SocketLink;
  readonly #deliveries: RemoteDeliveries;
  readonly #subscriptions: RemoteSubscriptions | undefined;
  readonly #message: ZatoRemoteOptions['message'];
  readonly #runHook: ZatoRemoteOptions['runHook'];

  constructor(options: ZatoRemoteOptions) {
    this.#link = options.link;
    this.#message = options.message;
    this.#runHook = options.runHook;
    this.session = new ZatoSession(options.link, options.credentials);
    this.#deliveries = new RemoteDeliveries(options.link, this.session, (message) => options.message(message, false));
    if (options.subscriptions)
      this.#subscriptions = new RemoteSubscriptions(options.link, this.session, options.subscriptions.store);
  }

  /** Creates the session on a socket just opened; false when refused or unanswered. */
  open(): Promise<boolean> {
    return this.session.create();
  }

  /** The socket is connected: the subscriptions (if this socket holds them) are resumed or made. */
  connected(): void {
    void this.#subscriptions?.subscribe();
  }

  /** Sends `invoke-service` and resolves with the reply (see `ZatoSession.request`). */
  request(data: unknown): Promise<WsxResponse> {
    return this.session.request(data);
  }

  /** One frame from the remote; `connected` is false while the session is being created. */
  onMessage(ws: WebSocket, data: Buffer, isBinary: boolean, connected: boolean): void {
    if (isBinary) return this.#link.ignore('a binary frame (the WSX protocol is text)');
    const parsed = parseServerFrame(data.toString('utf8'));
    if (!parsed.ok) return this.#link.ignore(parsed.reason);
    this.#onFrame(ws, parsed.frame, connected);
  }

  /**
   * A deliberate stop: with `unsubscribe` (the connection was deleted) the remote subscriptions end too; they
   * outlive a mere drop on purpose. Waiting requests fail with `err`.
   */
  stop(ws: WebSocket | undefined, unsubscribe: boolean, err: Error): void {
    if (ws && unsubscribe && ws.readyState === ws.OPEN) this.#subscriptions?.unsubscribeAll(ws);
    this.session.end(err);
  }

  #onFrame(ws: WebSocket, frame: RemoteFrame, connected: boolean): void {
    switch (frame.kind) {
      case 'reply':
      case 'bad-reply':
        return this.session.onReply(frame);
      case 'error-message':
        return this.session.onErrorMessage(`Remote error: ${clip(frame.errorMessage ?? `status ${frame.status ?? 'none'}`)}`);
      case 'pubsub':
      case 'client-request':
        // Zato sends neither before the session exists; a remote that does is not answered.
        if (!connected)
          return this.#link.ignore(
            `a ${frame.kind === 'pubsub' ? MSG_TYPE.PUBSUB_REQUEST : MSG_TYPE.CLIENT_REQUEST} before the session was created`,
          );
        if (frame.kind === 'pubsub') this.#runHook(ws, this.#deliveries.inOrder(ws, frame.id, frame.data));
        else this.#runHook(ws, () => this.session.answer(ws, frame.id, () => this.#message(frame.data, true)));
    }
  }
}
