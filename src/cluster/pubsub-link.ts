import type { Logger } from 'pino';
import type { ClusterRepository, PubSubMessage } from '../store/index.js';

/** Below PostgreSQL's 8,000-byte NOTIFY payload limit, with room to spare (cluster-notes §3.3). */
const MAX_PAYLOAD_BYTES = 7_900;

/** What pub/sub is told of the other servers (the port `PubSubClusterHandlers` of src/pubsub/). */
export interface PubSubLinkHandlers {
  gd(topics: readonly string[] | '*'): void;
  nonGd(message: PubSubMessage): void;
  subscribed(topic: string): void;
  claimed(subKey: string, epoch: number): void;
  resync(): void;
}

/** How a server's pub/sub talks to the others. */
export interface PubSubLinkOptions {
  readonly serverId: string;
  readonly repository: Pick<ClusterRepository, 'notify'>;
  /** `sb_<h>_gd`: GD commits (topics) and claims. */
  readonly gdChannel: string;
  /** `sb_<h>_ngd`: non-GD messages. */
  readonly ngdChannel: string;
  readonly isHousekeeper: () => boolean;
  readonly sweepMs: number;
  readonly orphanTtlMs: number;
  readonly logger: Logger;
}

interface GdPayload {
  readonly o: string;
  readonly t?: readonly string[] | '*';
  readonly c?: string;
  readonly e?: number;
  readonly s?: string;
}

/** What `#ngdPayloads` assembles by hand. */
interface NgdPayload {
  readonly o: string;
  readonly n: number;
  readonly m: readonly PubSubMessage[];
}

/**
 * Pub/sub's side of the cluster's NOTIFY channels (cluster-notes §3.3, §3.7), implementing pub/sub's
 * `PubSubCluster` port. What a tick announces goes in one NOTIFY per channel (several for non-GD messages that do
 * not fit in one), always after the data committed and as a statement of its own; sends run one after another, so
 * each origin's non-GD sequence `n` arrives in order, and a gap in it (a NOTIFY lost while a listener was away)
 * is counted. A server ignores its own notifications.
 */
export class PubSubLink {
  readonly serverId: string;
  readonly sweepMs: number;
  readonly orphanTtlMs: number;
  readonly #o: PubSubLinkOptions;
  readonly #log: Logger;
  #handlers: PubSubLinkHandlers | undefined;
  readonly #gdTopics = new Set<string>();
  #ngd: PubSubMessage[] = [];
  #scheduled = false;
  #sending: Promise<void> = Promise.resolve();
  #ngdSeq = 0;
  readonly #lastSeen = new Map<string, number>();
  #gaps = 0;
  #tooLarge = 0;

  constructor(options: PubSubLinkOptions) {
    this.#o = options;
    this.serverId = options.serverId;
    this.sweepMs = options.sweepMs;
    this.orphanTtlMs = options.orphanTtlMs;
    this.#log = options.logger.child({ part: 'cluster-pubsub' });
  }

  /** Non-GD messages from other servers known to be missed (a gap in an origin's sequence). */
  get ngdGaps(): number {
    return this.#gaps;
  }

  /** Non-GD messages not sent to the other servers because one alone exceeds a NOTIFY payload. */
  get ngdTooLarge(): number {
    return this.#tooLarge;
  }

  isHousekeeper(): boolean {
    return this.#o.isHousekeeper();
  }

  announceGd(topic: string): void {
    this.#gdTopics.add(topic);
    this.#schedule();
  }

  announceNonGd(message: PubSubMessage): void {
    this.#ngd.push(message);
    this.#schedule();
  }

  announceClaim(subKey: string, epoch: number): void {
    this.#send(this.#o.gdChannel, JSON.stringify({ o: this.serverId, c: subKey, e: epoch } satisfies GdPayload));
  }

  announceSubscribed(topic: string): void {
    this.#send(this.#o.gdChannel, JSON.stringify({ o: this.serverId, s: topic } satisfies GdPayload));
  }

  listen(handlers: PubSubLinkHandlers): void {
    this.#handlers = handlers;
  }

  /** A NOTIFY arrived on one of the pub/sub channels; a payload that does not parse is logged and ignored. */
  received(channel: string, payload: string): void {
    try {
      if (channel === this.#o.gdChannel) this.#gdReceived(JSON.parse(payload) as GdPayload);
      else if (channel === this.#o.ngdChannel) this.#ngdReceived(JSON.parse(payload) as NgdPayload);
    } catch (err) {
      this.#log.warn({ err, channel }, 'A pub/sub notification could not be handled');
    }
  }

  /** The LISTEN connection came back: whatever was sent meanwhile is lost, the tables are read again. */
  resync(): void {
    this.#handlers?.resync();
  }

  /** Resolves once everything announced so far was sent (or failed). */
  async flushed(): Promise<void> {
    if (this.#scheduled) await new Promise<void>((r) => setImmediate(r));
    await this.#sending;
  }

  #gdReceived(p: GdPayload): void {
    if (p.o === this.serverId || !this.#handlers) return;
    if (p.c !== undefined && typeof p.e === 'number') this.#handlers.claimed(p.c, p.e);
    if (p.s !== undefined) this.#handlers.subscribed(p.s);
    if (p.t !== undefined) this.#handlers.gd(p.t);
  }

  #ngdReceived(p: NgdPayload): void {
    if (p.o === this.serverId) return;
    const last = this.#lastSeen.get(p.o);
    if (last !== undefined && p.n > last + 1) this.#gaps += p.n - last - 1;
    if (last === undefined || p.n > last) this.#lastSeen.set(p.o, p.n);
    for (const m of p.m) this.#handlers?.nonGd(m);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#gdTopics.size) {
      const topics = [...this.#gdTopics];
      this.#gdTopics.clear();
      let payload = JSON.stringify({ o: this.serverId, t: topics } satisfies GdPayload);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) payload = JSON.stringify({ o: this.serverId, t: '*' });
      this.#send(this.#o.gdChannel, payload);
    }
    const messages = this.#ngd;
    this.#ngd = [];
    for (const payload of this.#ngdPayloads(messages)) this.#send(this.#o.ngdChannel, payload);
  }

  // As few payloads as fit the limit, in publication order; a message too large alone is counted and left out.
  // Each message is encoded once and the payload assembled from the pieces (the JSON of `{o, n, m}`).
  #ngdPayloads(messages: readonly PubSubMessage[]): string[] {
    const out: string[] = [];
    const head = (n: number) => `{"o":${JSON.stringify(this.serverId)},"n":${n},"m":[`;
    const room = MAX_PAYLOAD_BYTES - Buffer.byteLength(head(Number.MAX_SAFE_INTEGER)) - 2;
    let batch: string[] = [];
    let bytes = 0;
    const close = () => {
      if (batch.length) out.push(`${head(++this.#ngdSeq)}${batch.join(',')}]}`);
      batch = [];
      bytes = 0;
    };
    for (const message of messages) {
      const json = JSON.stringify(message);
      const size = Buffer.byteLength(json) + 1;
      if (size > room) {
        this.#tooLarge++;
        this.#log.warn({ topic: message.topicName, size: message.size }, 'Non-GD message too large for the other servers');
        continue;
      }
      if (bytes + size > room) close();
      batch.push(json);
      bytes += size;
    }
    close();
    return out;
  }

  #send(channel: string, payload: string): void {
    this.#sending = this.#sending.then(() =>
      this.#o.repository.notify(channel, payload).catch((err: unknown) => {
        // The others' sweep still finds GD rows; a non-GD message is lost for them (at most once).
        this.#log.warn({ err, channel }, 'A pub/sub NOTIFY failed');
      }),
    );
  }
}
