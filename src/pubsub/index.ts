export { PubSub, type Caller, type TopicDepth, type SubscriptionView } from './pubsub.js';
export { TopicDefinitions } from './topics.js';
export { pubsubServices } from './services.js';
export { TopicConfigSchema, normalizeTopic, type TopicConfig, type TopicInput } from './config.js';
export type { Subscription, SubscribeOptions, AckMode } from './subscription.js';
export type { PublishInput, MessageView } from './message.js';
