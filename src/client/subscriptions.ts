import { PUBSUB_SERVICE, RecentIds, backoffCeiling, pubSubDeliveries, type BackoffConfig } from '../protocol/client.js';
import type { InternalCallOptions } from './calls.js';
import { ClientError, ServerError } from './errors.js';
import { toMessage, type PubSubMessage } from './message.js';
import type { Socket } from './socket.js';

/** How a subscriber acknowledges: `client` (the default) once its handler is done, `write` when written (Zato's). */
export type AckMode = 'client' | 'write';

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Default `client`: a message stays queued on the server until the handler has finished with it. */
  readonly ackMode?: AckMode | undefined;
  /** Most messages in one delivery frame (the server's default is 500). */
  readonly deliveryBatchSize?: number | undefined;
  /** A lower limit of queued GD messages than the topic's `subMaxDepthGd`. */
  readonly subMaxDepthGd?: number | undefined;
  /** Resume this existing subscription (kept from an earlier run with `keepOnClose`) instead of subscribing. */
  readonly subKey?: string | undefined;
  /** Keep the subscription on the server after `close()`, to resume it later by its `subKey`; default false. */
  readonly keepOnClose?: boolean | undefined;
}

/** Handles one message; a rejection leaves it unacknowledged, and it is delivered again. */
export type MessageHandler<T = unknown> = (message: PubSubMessage<T>) => void | Promise<void>;

/** A subscription made by `subscribe`. */
export interface Subscription {
  readonly topic: string;
  /** The server's key; it changes only if the server lost the subscription and it was made anew. */
  readonly subKey: string;
  readonly ackMode: AckMode;
  /** Stops this handler; the last one removes the subscription from the server. */
  unsubscribe(): Promise<void>;
}

/** What subscriptions need of the client. */
export interface SubscriptionHost {
  /** Calls a gateway service; resolves with the response's data, rejects with a `ClientError`. */
  call(service: string, request: Record<string, unknown>, options?: InternalCallOptions): Promise<unknown>;
  /** Acknowledges a delivery frame on the socket it came from. */
  ack(socket: Socket, frameId: string): void;
  /** The socket with a session, if any. */
  current(): Socket | undefined;
  error(err: Error): void;
  readonly backoff: BackoffConfig;
}

interface Entry {
  readonly topic: string;
  subKey: string;
  readonly ackMode: AckMode;
  readonly options: SubscribeOptions;
  readonly handlers: Set<MessageHandler<never>>;
}

/** Message ids remembered to recognise a redelivery of what a handler already had. */
const SEEN = 10_000;
/** Server codes that say a subscription to resume is gone: it is made anew. */
const GONE = new Set(['subscription_not_found', 'not_subscription_owner', 'forbidden']);

const subKeyOf = (data: unknown): string => {
  const subKey = typeof data === 'object' && data !== null ? (data as { sub_key?: unknown }).sub_key : undefined;
  if (typeof subKey !== 'string' || subKey === '') throw new ClientError('invalid_reply', 'The reply has no sub_key');
  return subKey;
};

/**
 * The client's subscriptions: made and resumed by sub_key after every reconnect, deliveries handed to the
 * handlers one frame at a time in the order read, each message once (a redelivery of a message already handled
 * is acknowledged, not handed on again), then acknowledged. A handler that throws leaves the frame
 * unacknowledged; the subscription waits and, after a backoff, is resumed so the server sends it again.
 */
export class Subscriptions {
  readonly #host: SubscriptionHost;
  readonly #bySubKey = new Map<string, Entry>();
  readonly #seen = new RecentIds(SEEN);
  readonly #subscribing = new Set<Promise<unknown>>();
  readonly #waiting = new Set<string>();
  readonly #resumedAt = new Map<string, number>();
  #chain: Promise<void> = Promise.resolve();
  #framesRead = 0;
  #failures = 0;

  constructor(host: SubscriptionHost) {
    this.#host = host;
  }

  /** Subscribes (or resumes `options.subKey`) and hands every message to `handler`. */
  subscribe<T>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions): Promise<Subscription> {
    const made = this.#subscribe(topic, handler as MessageHandler<never>, options);
    this.#subscribing.add(made);
    const done = (): void => void this.#subscribing.delete(made);
    made.then(done, done);
    return made;
  }

  /** After a new session: resumes every subscription (or makes it anew when the server lost it). */
  async resumeAll(): Promise<void> {
    await Promise.all([...new Set(this.#bySubKey.values())].map((entry) => this.#resume(entry)));
  }

  /** A `zwsx.psrq` frame, delivered once the frames read before it are. */
  receive(socket: Socket, frameId: string, data: unknown): void {
    const readAs = ++this.#framesRead;
    this.#chain = this.#chain
      .then(() => this.#deliver(socket, frameId, data, readAs))
      .catch((err: unknown) => {
        this.#host.error(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /** Removes every subscription not kept on close from the server (the client is closing). */
  async closeAll(timeout: number): Promise<void> {
    const gone = [...new Set(this.#bySubKey.values())].filter((e) => !e.options.keepOnClose);
    this.#bySubKey.clear();
    await Promise.allSettled(
      gone.map((e) => this.#host.call(PUBSUB_SERVICE.UNSUBSCRIBE, { sub_key: e.subKey }, { timeout, resend: false })),
    );
  }

  async #subscribe(topic: string, handler: MessageHandler<never>, options: SubscribeOptions): Promise<Subscription> {
    const ackMode = options.ackMode ?? 'client';
    const subKey = options.subKey
      ? subKeyOf(await this.#host.call(PUBSUB_SERVICE.RESUME, { sub_key: options.subKey }))
      : await this.#create(topic, ackMode, options);
    // Subscribing again to a topic gives the same sub_key: one entry, several handlers.
    let entry = this.#bySubKey.get(subKey);
    if (!entry) this.#bySubKey.set(subKey, (entry = { topic, subKey, ackMode, options, handlers: new Set() }));
    entry.handlers.add(handler);
    const held = entry;
    return {
      topic,
      ackMode,
      get subKey() {
        return held.subKey;
      },
      unsubscribe: () => this.#unsubscribe(held, handler),
    };
  }

  async #create(topic: string, ackMode: AckMode, options: SubscribeOptions, call: InternalCallOptions = {}): Promise<string> {
    const request: Record<string, unknown> = { topic_name: topic, unsub_on_wsx_close: false, ack_mode: ackMode };
    if (options.deliveryBatchSize !== undefined) request.delivery_batch_size = options.deliveryBatchSize;
    if (options.subMaxDepthGd !== undefined) request.sub_max_depth_gd = options.subMaxDepthGd;
    return subKeyOf(await this.#host.call(PUBSUB_SERVICE.SUBSCRIBE, request, call));
  }

  async #unsubscribe(entry: Entry, handler: MessageHandler<never>): Promise<void> {
    entry.handlers.delete(handler);
    if (entry.handlers.size > 0 || this.#bySubKey.get(entry.subKey) !== entry) return;
    this.#bySubKey.delete(entry.subKey);
    await this.#host.call(PUBSUB_SERVICE.UNSUBSCRIBE, { sub_key: entry.subKey });
  }

  /**
   * Resumes one subscription after a reconnect. Only a lost connection rejects (the next one resumes again): a
   * subscription the server refuses is reported on `error`, never a reason to reconnect.
   */
  async #resume(entry: Entry): Promise<void> {
    try {
      // A resume sends everything unacknowledged again: a redelivery a failed handler waits for comes with it.
      const onReply = (): void => void this.#waiting.delete(entry.subKey);
      await this.#host.call(PUBSUB_SERVICE.RESUME, { sub_key: entry.subKey }, { resend: false, onReply });
      return;
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      this.#host.error(err);
      // Refused for now (the database unavailable, …): kept, and resumed again after the next reconnect.
      if (!GONE.has(err.code)) return;
    }
    // The server lost it (it expired while detached, or the database was replaced): made anew, under a new key.
    const lost = entry.subKey;
    let subKey: string;
    try {
      subKey = await this.#create(entry.topic, entry.ackMode, entry.options, { resend: false });
    } catch (err) {
      // Not connected any more: kept under its old key, so that the next session tries again.
      if (!(err instanceof ServerError)) throw err;
      // The topic is gone, or no longer allowed: the subscription ends, and its handlers hear nothing more.
      this.#host.error(err);
      this.#bySubKey.delete(lost);
      return;
    }
    this.#bySubKey.delete(lost);
    entry.subKey = subKey;
    this.#bySubKey.set(subKey, entry);
  }

  async #deliver(socket: Socket, frameId: string, data: unknown, readAs: number): Promise<void> {
    const { messages, refused } = pubSubDeliveries(data);
    for (const reason of refused) this.#host.error(new ClientError('invalid_reply', `A delivery was refused: ${reason}`));
    let acked: Entry | undefined;
    for (const { message, msgId, subKey } of messages) {
      if (msgId === undefined || subKey === undefined) continue;
      const entry = await this.#entry(subKey);
      // Not ours (any more), or waiting for the redelivery that a failed handler asked for: not acknowledged.
      if (!entry || this.#waiting.has(subKey) || readAs <= (this.#resumedAt.get(subKey) ?? 0)) return;
      acked = entry;
      if (!this.#seen.add(`${subKey} ${msgId}`)) continue;
      try {
        for (const handler of [...entry.handlers]) await (handler as MessageHandler)(toMessage(message, msgId, subKey));
        this.#failures = 0;
      } catch (err) {
        this.#seen.delete(`${subKey} ${msgId}`);
        this.#host.error(err instanceof Error ? err : new Error(String(err)));
        this.#redeliverLater(subKey);
        return;
      }
    }
    if (acked?.ackMode === 'client' && this.#host.current() === socket) this.#host.ack(socket, frameId);
  }

  /** The subscription of `subKey`; a delivery may come before the reply to the subscribe call under way. */
  async #entry(subKey: string): Promise<Entry | undefined> {
    if (!this.#bySubKey.has(subKey) && this.#subscribing.size > 0) await Promise.allSettled([...this.#subscribing]);
    return this.#bySubKey.get(subKey);
  }

  // Resuming makes the server send everything unacknowledged again, from the failed message on. Frames read
  // before the resume's reply are left out: they come again after it.
  #redeliverLater(subKey: string): void {
    if (this.#waiting.has(subKey)) return;
    this.#waiting.add(subKey);
    const delay = backoffCeiling(this.#failures++, this.#host.backoff);
    setTimeout(() => {
      const onReply = (): void => {
        this.#waiting.delete(subKey);
        this.#resumedAt.set(subKey, this.#framesRead);
      };
      this.#host
        .call(PUBSUB_SERVICE.RESUME, { sub_key: subKey }, { onReply })
        .catch((err: unknown) => this.#host.error(err instanceof Error ? err : new Error(String(err))))
        .finally(() => this.#waiting.delete(subKey));
    }, delay);
  }
}
