// Parsing one client frame: an `invoke-service` through the gateway, as the echo bench's clients send it.
import { built } from './harness.mjs';

const { parseClientFrame } = await built('protocol/index.js');
const FRAME = JSON.stringify({
  meta: { action: 'invoke-service', id: 'i000123', timestamp: '2026-01-01T00:00:00.000Z', token: `zwsxt.${'a'.repeat(32)}` },
  data: { service: 'zato.helpers.echo', request: { n: 123, text: 'hello' } },
});

export const name = 'parseClientFrame (invoke-service, 190 B)';
export const run = () => parseClientFrame(FRAME);
