import { ValidationError } from '../errors/index.js';
import { newHexId } from '../protocol/index.js';

/** How a subscriber confirms a delivery: `write` (Zato's: once written to the socket) or `client` (its ack). */
export type AckMode = 'write' | 'client';

/**
 * Messages per delivery frame unless the subscriber asks otherwise: Zato's default (`PUBSUB.DEFAULT.DELIVERY_BATCH_SIZE`).
 * A frame holds what is queued when the subscriber's turn comes, so this bounds frames, it does not delay them.
 */
export const DEFAULT_DELIVERY_BATCH_SIZE = 500;

/** A subscription, as stored. */
export interface Subscription {
  readonly subKey: string;
  readonly topicName: string;
  /** The WSX channel the subscriber connects through. */
  readonly channelName: string;
  /** The subscriber's `client_id`, which lets it unsubscribe or resume from a new connection. */
  readonly extClientId: string | null;
  readonly deliveryBatchSize: number;
  readonly wrapOneMsgInList: boolean;
  readonly ackMode: AckMode;
  readonly unsubOnWsxClose: boolean;
  readonly createdAt: string;
  /**
   * The security definition that authenticated the subscriber (its channel's), or null on an open channel; only a
   * client authenticated by the same definition may resume or unsubscribe it. Absent on subscriptions stored before.
   */
  readonly securityName?: string | null;
  /** The subscriber's own queue limit, below the topic's `subMaxDepthGd` (which applies when it is absent). */
  readonly subMaxDepthGd?: number | null;
}

/** Options a subscriber may give (Zato's names, camel-cased). */
export interface SubscribeOptions {
  readonly deliveryBatchSize?: number | undefined;
  readonly wrapOneMsgInList?: boolean | undefined;
  readonly ackMode?: AckMode | undefined;
  readonly unsubOnWsxClose?: boolean | undefined;
  /** A lower queue limit than the topic's `subMaxDepthGd` (a higher one is capped to it). */
  readonly subMaxDepthGd?: number | undefined;
}

/** Who creates a subscription: the channel and client it subscribes through, and its security definition. */
export interface Subscriber {
  readonly channelName: string;
  readonly extClientId: string | undefined;
  readonly securityName: string | null;
}

/** Validates a subscriber's options and builds its new subscription. */
export function newSubscription(
  topicName: string,
  subscriber: Subscriber,
  options: SubscribeOptions,
  now = new Date(),
): Subscription {
  const batch = options.deliveryBatchSize ?? DEFAULT_DELIVERY_BATCH_SIZE;
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
    throw new ValidationError('invalid_input', 'delivery_batch_size must be an integer from 1 to 10000', {
      field: 'delivery_batch_size',
    });
  const ackMode = options.ackMode ?? 'write';
  if (ackMode !== 'write' && ackMode !== 'client')
    throw new ValidationError('invalid_input', 'ack_mode must be write or client', { field: 'ack_mode' });
  const ownLimit = options.subMaxDepthGd;
  if (ownLimit !== undefined && (!Number.isInteger(ownLimit) || ownLimit < 1 || ownLimit > 100_000_000)) {
    throw new ValidationError('invalid_input', 'sub_max_depth_gd must be an integer from 1 to 100000000', {
      field: 'sub_max_depth_gd',
    });
  }
  return {
    subKey: `zpsk.wsx.${newHexId(12)}`,
    topicName,
    channelName: subscriber.channelName,
    extClientId: subscriber.extClientId ?? null,
    deliveryBatchSize: batch,
    wrapOneMsgInList: options.wrapOneMsgInList ?? false,
    ackMode,
    unsubOnWsxClose: options.unsubOnWsxClose ?? true,
    createdAt: now.toISOString(),
    securityName: subscriber.securityName,
    subMaxDepthGd: ownLimit ?? null,
  };
}
