/** What the registry indexes an entry by: its subscription's key and topic. */
export interface Registered {
  readonly sub: { readonly subKey: string; readonly topicName: string };
}

/**
 * The live subscriptions, indexed by sub_key, by topic and by the connection (`pubClientId`) each is attached to,
 * so that a publication, an acknowledgement or a closed connection reaches its subscriptions without a scan.
 */
export class SubscriptionRegistry<T extends Registered> {
  readonly #bySubKey = new Map<string, T>();
  readonly #byTopic = new Map<string, Set<T>>();
  readonly #byClient = new Map<string, Set<T>>();
  readonly #clientOf = new Map<T, string>();

  /** Subscriptions registered. */
  get size(): number {
    return this.#bySubKey.size;
  }

  /** Registers a subscription (not attached to any connection yet). */
  add(entry: T): void {
    this.#bySubKey.set(entry.sub.subKey, entry);
    indexed(this.#byTopic, entry.sub.topicName).add(entry);
  }

  /** Unregisters a subscription; false when it was not registered. */
  remove(entry: T): boolean {
    if (this.#bySubKey.get(entry.sub.subKey) !== entry) return false;
    this.#bySubKey.delete(entry.sub.subKey);
    unindex(this.#byTopic, entry.sub.topicName, entry);
    this.detach(entry);
    return true;
  }

  /** Records which connection the subscription is attached to now (moving it from any previous one). */
  attach(entry: T, pubClientId: string): void {
    this.detach(entry);
    this.#clientOf.set(entry, pubClientId);
    indexed(this.#byClient, pubClientId).add(entry);
  }

  /** The subscription has no connection any more. */
  detach(entry: T): void {
    const previous = this.#clientOf.get(entry);
    if (previous === undefined) return;
    this.#clientOf.delete(entry);
    unindex(this.#byClient, previous, entry);
  }

  /** The subscription with this key. */
  get(subKey: string): T | undefined {
    return this.#bySubKey.get(subKey);
  }

  /** The subscriptions of a topic (a copy: callers may remove while they walk it). */
  ofTopic(topicName: string): T[] {
    const set = this.#byTopic.get(topicName);
    return set ? [...set] : [];
  }

  /** The subscriptions attached to a connection (a copy). */
  ofClient(pubClientId: string): T[] {
    const set = this.#byClient.get(pubClientId);
    return set ? [...set] : [];
  }

  /** The connection's subscription to a topic, if it has one. */
  find(topicName: string, pubClientId: string): T | undefined {
    for (const entry of this.#byClient.get(pubClientId) ?? []) if (entry.sub.topicName === topicName) return entry;
    return undefined;
  }

  /** Every subscription. */
  all(): IterableIterator<T> {
    return this.#bySubKey.values();
  }
}

function indexed<T>(index: Map<string, Set<T>>, key: string): Set<T> {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  return set;
}

function unindex<T>(index: Map<string, Set<T>>, key: string, entry: T): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(entry);
  if (!set.size) index.delete(key);
}
