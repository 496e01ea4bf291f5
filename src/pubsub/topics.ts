import type { PubSub } from './pubsub.js';
import { normalizeTopic, withTopicDefaults, type TopicConfig, type TopicInput } from './config.js';

/** Topic configuration in the store (through the pub/sub part, which owns the messages). */
export class TopicDefinitions {
  readonly #pubsub: PubSub;

  constructor(pubsub: PubSub) {
    this.#pubsub = pubsub;
  }

  // Topics stored before a limit existed show it at its default.
  async list(): Promise<TopicConfig[]> {
    return (await this.#pubsub.topics.list()).map(withTopicDefaults);
  }

  async get(name: string): Promise<TopicConfig> {
    return withTopicDefaults(await this.#pubsub.topics.require(name));
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
