import type { PubSub } from './pubsub.js';
import { normalizeTopic, type TopicConfig, type TopicInput } from './config.js';

/** Topic configuration in the store (through the pub/sub part, which owns the messages). */
export class TopicDefinitions {
  readonly #pubsub: PubSub;

  constructor(pubsub: PubSub) {
    this.#pubsub = pubsub;
  }

  list(): Promise<TopicConfig[]> {
    return this.#pubsub.topics.list();
  }

  get(name: string): Promise<TopicConfig> {
    return this.#pubsub.topics.require(name);
  }

  create(input: TopicInput): Promise<TopicConfig> {
    return this.#pubsub.topics.create(normalizeTopic(input));
  }

  async update(name: string, input: TopicInput): Promise<TopicConfig> {
    await this.#pubsub.topics.require(name);
    return this.#pubsub.topics.update(name, normalizeTopic(input));
  }

  delete(name: string): Promise<TopicConfig> {
    return this.#pubsub.topics.delete(name);
  }
}
