/**
 * The pub/sub services a WSX client calls through a channel's gateway, with Zato 3.2's names (the same on a Zato
 * server and on Switchboard; docs/pubsub.md lists their input and output).
 */
export const PUBSUB_SERVICE = {
  PUBLISH: 'zato.pubsub.pubapi.publish-message',
  SUBSCRIBE: 'zato.pubsub.pubapi.subscribe-wsx',
  CREATE_SUBSCRIPTION: 'zato.pubsub.subscription.create-wsx-subscription',
  UNSUBSCRIBE: 'zato.pubsub.pubapi.unsubscribe',
  RESUME: 'zato.pubsub.resume-wsx-subscription',
} as const;
