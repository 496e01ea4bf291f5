import type { WebSocket } from 'ws';
import { RecentIds, backoffCeiling, pubSubDeliveries } from '../../protocol/index.js';
import { clip } from './errors.js';
import type { SocketLink } from './socket-link.js';
import type { ZatoSession } from './zato-session.js';

/** What deliveries use of the session: resuming a subscription, acknowledging a frame. */
export type DeliverySession = Pick<ZatoSession, 'requestOnce' | 'acknowledge'>;

/** Pub/sub message ids remembered per socket to recognise redeliveries. */
const SEEN_MSG_IDS = 10_000;

/** Subscriptions that may wait for a redelivery at once (a hostile remote could name any number of sub_keys). */
const MAX_WAITING_FOR_REDELIVERY = 1000;

const RESUME_SERVICE = 'zato.pubsub.resume-wsx-subscription';

/**
 * Pub/sub deliveries (`zwsx.psrq`) from a Zato-protocol remote to the MESSAGE hook, on every socket (a service
 * may subscribe through any of them): each message once (a window of msg_ids), in the order read, and the frame
 * acknowledged after its messages; after a failed hook, a redelivery of what was not acknowledged.
 */
export class RemoteDeliveries {
  readonly #link: SocketLink;
  readonly #session: DeliverySession;
  readonly #hook: (message: unknown) => Promise<unknown>;
  readonly #seenMsgIds = new RecentIds(SEEN_MSG_IDS);
  #hookFailures = 0;
  // Subscriptions whose MESSAGE hook failed, until the remote has been asked to send their messages again.
  readonly #waitingForRedelivery = new Set<string>();
  // Deliveries are handed to the hook one frame at a time, in the order read: a frame read after one whose hook
  // then fails must not be handed on before that one comes again. `#framesRead` numbers them as read;
  // `#resumedAt` holds, per sub_key, the number read when the remote answered the resume: frames up to it that
  // were still waiting their turn are left out, since the remote sends them again after that answer.
  #chain: Promise<void> = Promise.resolve();
  #framesRead = 0;
  readonly #resumedAt = new Map<string, number>();

  constructor(link: SocketLink, session: DeliverySession, hook: (message: unknown) => Promise<unknown>) {
    this.#link = link;
    this.#session = session;
    this.#hook = hook;
  }

  /** The delivery of a `zwsx.psrq` frame, as a task that starts once the frames read before it are done. */
  inOrder(ws: WebSocket, id: string, data: unknown): () => Promise<void> {
    const readAs = ++this.#framesRead;
    return () => {
      const run = this.#chain.then(() => this.#deliver(ws, id, data, readAs));
      this.#chain = run.catch(() => undefined);
      return run;
    };
  }

  // Every message of a delivery goes to the MESSAGE hook once, in order; then the whole frame is acknowledged.
  // A redelivery (our acknowledgement was lost with the connection) is acknowledged again but not handed on twice.
  // A hook that fails stops the frame there, unacknowledged, and the subscription waits: what arrives for it
  // meanwhile is not handed on (nor acknowledged) until a resume makes the remote send everything unacknowledged
  // again, from the failed message on — so nothing is dropped and order is kept.
  // Messages whose msg_id or sub_key is mistyped are logged and left out (and acknowledged with the frame).
  async #deliver(ws: WebSocket, id: string, data: unknown, readAs: number): Promise<void> {
    const { messages, refused } = pubSubDeliveries(data);
    for (const reason of refused) this.#link.ignore(`a zwsx.psrq message: ${reason}`);
    for (const { message, msgId, subKey } of messages) {
      if (subKey !== undefined && (this.#waitingForRedelivery.has(subKey) || readAs <= (this.#resumedAt.get(subKey) ?? 0)))
        return;
      if (msgId !== undefined && !this.#seenMsgIds.add(msgId)) continue;
      try {
        await this.#hook(message);
        this.#hookFailures = 0;
      } catch (err) {
        if (msgId !== undefined) this.#seenMsgIds.delete(msgId);
        this.#link.setLastError(
          `The MESSAGE hook failed on ${clip(msgId ?? 'a message without msg_id')}; left unacknowledged for redelivery: ${clip(err instanceof Error ? err.message : 'unknown error')}`,
        );
        if (subKey !== undefined) this.#redeliverLater(subKey);
        return;
      }
    }
    if (this.#link.isCurrent(ws)) this.#session.acknowledge(ws, id);
  }

  // Resuming a subscription makes a Switchboard remote send its unacknowledged messages again; the wait grows
  // with each failure in a row, like reconnects do.
  #redeliverLater(subKey: string): void {
    if (this.#waitingForRedelivery.has(subKey) || this.#waitingForRedelivery.size >= MAX_WAITING_FOR_REDELIVERY) return;
    this.#waitingForRedelivery.add(subKey);
    const delay = backoffCeiling(this.#hookFailures++, this.#link.config.reconnect);
    this.#link.after(delay, () => {
      // Frames sent before the remote took the resume arrive before its reply; the replay comes after it.
      // The flag is cleared the moment the reply is read, before the frames that follow it are looked at.
      const onReply = (): void => {
        this.#waitingForRedelivery.delete(subKey);
        this.#resumedAt.set(subKey, this.#framesRead);
      };
      this.#session
        .requestOnce({ service: RESUME_SERVICE, request: { sub_key: subKey } }, onReply)
        .catch(() => undefined)
        .finally(() => this.#waitingForRedelivery.delete(subKey));
    });
  }
}
