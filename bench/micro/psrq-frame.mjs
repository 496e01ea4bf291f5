// Building one `zwsx.psrq` delivery frame of one ~100-byte GD message, from the message head encoded once.
import { built } from './harness.mjs';

const { PsrqEncoder } = await built('protocol/index.js');
const encoder = new PsrqEncoder(`zpsk.${'b'.repeat(24)}`);
const message = {
  msgId: `zpsm${'c'.repeat(24)}`,
  topicName: '/bench/micro',
  dataJson: JSON.stringify({ id: 'm1', text: 'x'.repeat(64) }),
  mimeType: 'application/json',
  priority: 5,
  pubTime: Date.now(),
  expirationTime: Date.now() + 60_000,
  correlId: null,
  inReplyTo: null,
  extClientId: null,
  size: 80,
  hasGd: true,
};

export const name = 'PsrqEncoder.frame (one GD message)';
export const run = () => encoder.frame('f1', '2026-01-01T00:00:00.000Z', [{ message, deliveryCount: 0 }], true, 1);
