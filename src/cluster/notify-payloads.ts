import { InternalError } from '../errors/index.js';
import type { ClientRepository, ClusterRepository } from '../store/index.js';
import type { Carried } from './rpc-messages.js';

/**
 * The longest notification sent as is, in UTF-8 bytes (PostgreSQL refuses 8,000 and more, cluster-notes §2). Longer
 * ones carry the id of a `cluster_blob` row instead of their data.
 */
export const NOTIFY_LIMIT_BYTES = 7900;

/** Sends and reads notifications whose data may be too long for one (cluster-notes §3.3). */
export class NotifyPayloads {
  readonly #blobs: ClientRepository;
  readonly #cluster: ClusterRepository;

  constructor(blobs: ClientRepository, cluster: ClusterRepository) {
    this.#blobs = blobs;
    this.#cluster = cluster;
  }

  /** NOTIFYs `message` with `data`, through a blob when the whole would be over the limit. */
  async send(channel: string, message: object, data: unknown): Promise<void> {
    const whole = JSON.stringify({ ...message, data });
    if (Buffer.byteLength(whole) <= NOTIFY_LIMIT_BYTES) return this.#cluster.notify(channel, whole);
    const blob = await this.#blobs.putBlob(JSON.stringify(data));
    await this.#cluster.notify(channel, JSON.stringify({ ...message, blob }));
  }

  /** The data a message carries; `take` deletes its blob (a message for one receiver). */
  async data(message: Carried, take: boolean): Promise<unknown> {
    if (message.blob === undefined) return message.data;
    const text = take ? await this.#blobs.takeBlob(message.blob) : await this.#blobs.readBlob(message.blob);
    if (text === undefined)
      throw new InternalError('internal_error', `The payload of a cluster message is gone (blob ${message.blob})`);
    return JSON.parse(text) as unknown;
  }

  /** Deletes a blob no one will read (a late reply). */
  async discard(message: Carried): Promise<void> {
    if (message.blob !== undefined) await this.#blobs.takeBlob(message.blob);
  }
}
