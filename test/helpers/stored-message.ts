import type { PubSubMessage } from '../../src/store/index.js';

let seq = 0;

/**
 * A GD message as the pub/sub repositories store it, for tests that publish straight into a repository. Ids carry
 * the process id, so test files sharing one database never collide; `seq` counts up per process.
 */
export function storedMessage(
  topicName: string,
  options: { priority?: number; expiresIn?: number; data?: unknown } = {},
): PubSubMessage {
  seq += 1;
  const now = Date.now();
  const dataJson = JSON.stringify(options.data ?? { seq });
  return {
    msgId: `zpsm${process.pid}${String(seq).padStart(16, '0')}`,
    seq,
    topicName,
    dataJson,
    mimeType: 'application/json',
    priority: options.priority ?? 5,
    pubTime: now,
    expirationTime: now + (options.expiresIn ?? 60_000),
    correlId: null,
    inReplyTo: null,
    extClientId: null,
    size: Buffer.byteLength(dataJson),
    hasGd: true,
  };
}
