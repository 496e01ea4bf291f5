export { PubSub, type Caller, type TopicDepth } from './pubsub.js';
export { TopicDefinitions } from './topics.js';
export { pubsubServices } from './services.js';
export { TopicConfigSchema, normalizeTopic, type TopicConfig, type TopicInput } from './config.js';
export { SLOW_CONSUMER_CLOSE, OUTBOUND_HIGH_WATER } from './delivery-task.js';
export type { Subscription, SubscribeOptions, AckMode } from './subscription.js';
export type { PublishInput } from './message.js';
