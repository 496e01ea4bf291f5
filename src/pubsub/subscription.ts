/** How a subscriber confirms a delivery: `write` (Zato's: once written to the socket) or `client` (its ack). */
export type AckMode = 'write' | 'client';

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
}

/** Options a subscriber may give (Zato's names, camel-cased). */
export interface SubscribeOptions {
  readonly deliveryBatchSize?: number | undefined;
  readonly wrapOneMsgInList?: boolean | undefined;
  readonly ackMode?: AckMode | undefined;
  readonly unsubOnWsxClose?: boolean | undefined;
}
