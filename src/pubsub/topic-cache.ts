import { ConflictError, NotFoundError } from '../errors/index.js';
import type { ConfigRepository } from '../store/index.js';
import { withTopicDefaults, type TopicConfig } from './config.js';

/** Topics with their defaults filled in, cached until they change (publishing reads one per message). */
export class TopicCache {
  readonly #topics: ConfigRepository<TopicConfig>;
  readonly #cache = new Map<string, TopicConfig>();

  constructor(topics: ConfigRepository<TopicConfig>) {
    this.#topics = topics;
  }

  /** The topic, or undefined when there is none of that name. */
  async get(name: string): Promise<TopicConfig | undefined> {
    let topic = this.#cache.get(name);
    if (topic) return topic;
    const stored = await this.#topics.get(name);
    if (!stored) return undefined;
    topic = withTopicDefaults(stored);
    this.#cache.set(name, topic);
    return topic;
  }

  /** The topic; throws `topic_not_found` or `topic_inactive`. */
  async active(name: string): Promise<TopicConfig> {
    const topic = await this.get(name);
    if (!topic) throw new NotFoundError('topic_not_found', `No topic named ${name}`);
    if (!topic.isActive) throw new ConflictError('topic_inactive', `Topic ${name} is inactive`);
    return topic;
  }

  /** The topic changed: read it again next time. */
  invalidate(name: string): void {
    this.#cache.delete(name);
  }
}
