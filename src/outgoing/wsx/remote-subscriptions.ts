import type { WebSocket } from 'ws';
import { MAX_REMOTE_ID_LENGTH } from '../../protocol/index.js';
import { clip } from './errors.js';
import type { RemoteSubKeyStore } from './remote-sub-keys.js';
import type { SocketLink } from './socket-link.js';
import type { ZatoSession } from './zato-session.js';

/** What subscriptions use of the session: requests, and sends that wait for no reply. */
export type SubscriptionSession = Pick<ZatoSession, 'requestOnce' | 'sendWithoutReply'>;

const RESUME_SERVICE = 'zato.pubsub.resume-wsx-subscription';
const SUBSCRIBE_SERVICE = 'zato.pubsub.subscription.create-wsx-subscription';
const UNSUBSCRIBE_SERVICE = 'zato.pubsub.pubapi.unsubscribe';

/**
 * The subscriptions an outgoing connection holds on a Zato-protocol remote (`subscriptionList`). Made for the
 * first socket of a pool only, so that a pool does not receive every message once per socket. The sub_keys
 * (topic → sub_key) are kept across reconnects and, with a store, restarts, so a subscription is resumed —
 * with what was published meanwhile — instead of created anew.
 */
export class RemoteSubscriptions {
  readonly #link: SocketLink;
  readonly #session: SubscriptionSession;
  readonly #store: RemoteSubKeyStore | undefined;
  readonly #subKeys = new Map<string, string>();
  #loaded = false;

  constructor(link: SocketLink, session: SubscriptionSession, store: RemoteSubKeyStore | undefined) {
    this.#link = link;
    this.#session = session;
    this.#store = store;
  }

  /** Topic → sub_key on the remote, as known now. */
  get subKeys(): ReadonlyMap<string, string> {
    return this.#subKeys;
  }

  /**
   * After each new session: resumes the subscriptions already held, creates the missing ones, and ends those of
   * topics taken off the list since.
   */
  async subscribe(): Promise<void> {
    await this.#load();
    const wanted = this.#link.config.subscriptionList;
    for (const topic of wanted) await this.#subscribeOne(topic);
    for (const [topic, subKey] of this.#subKeys) {
      if (wanted.includes(topic)) continue;
      this.#session.requestOnce({ service: UNSUBSCRIBE_SERVICE, request: { sub_key: subKey } }).catch(() => undefined);
      this.#subKeys.delete(topic);
    }
    await this.#save();
  }

  /** Ends every subscription on the remote (the connection was deleted), without waiting for the replies. */
  unsubscribeAll(ws: WebSocket): void {
    for (const subKey of this.#subKeys.values())
      this.#session.sendWithoutReply(ws, { service: UNSUBSCRIBE_SERVICE, request: { sub_key: subKey } });
    this.#subKeys.clear();
    void this.#save();
  }

  async #subscribeOne(topic: string): Promise<void> {
    try {
      const known = this.#subKeys.get(topic);
      if (known && (await this.#session.requestOnce({ service: RESUME_SERVICE, request: { sub_key: known } })).isOk) return;
      const reply = await this.#session.requestOnce({
        service: SUBSCRIBE_SERVICE,
        request: { topic_name: topic, unsub_on_wsx_close: false, ack_mode: 'client' },
      });
      const subKey = (reply.data as { sub_key?: unknown } | null | undefined)?.sub_key;
      if (reply.isOk && typeof subKey === 'string' && subKey.length > 0 && subKey.length <= MAX_REMOTE_ID_LENGTH)
        this.#subKeys.set(topic, subKey);
      else
        this.#link.setLastError(
          `Subscribing to ${topic} failed: ${reply.isOk ? 'the reply has no usable sub_key' : clip(reply.errorMessage ?? String(reply.status))}`,
        );
    } catch (err) {
      this.#link.setLastError(`Subscribing to ${topic} failed: ${clip((err as Error).message)}`);
    }
  }

  async #load(): Promise<void> {
    if (this.#loaded || !this.#store) return;
    try {
      for (const [topic, subKey] of Object.entries(await this.#store.load())) {
        if (typeof subKey === 'string' && !this.#subKeys.has(topic)) this.#subKeys.set(topic, subKey);
      }
      this.#loaded = true;
    } catch (err) {
      this.#link.log.error({ err }, 'Reading the stored remote sub_keys failed; subscribing anew');
    }
  }

  async #save(): Promise<void> {
    try {
      await this.#store?.save(Object.fromEntries(this.#subKeys));
    } catch (err) {
      this.#link.log.error({ err }, 'Storing the remote sub_keys failed; after a restart they are subscribed anew');
    }
  }
}
