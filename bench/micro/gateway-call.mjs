// The gateway's part of a call: reading `{ service, request }` and checking that the channel allows the service.
import { built } from './harness.mjs';

const { resolveGatewayCall } = await built('services/index.js');
const CHANNEL = { type: 'wsx', name: 'demo', gatewayServices: ['orders.*'] };
const PAYLOAD = { service: 'zato.helpers.echo', request: { n: 123, text: 'hello' } };

export const name = 'resolveGatewayCall (zato.helpers.echo)';
export const run = () => resolveGatewayCall(PAYLOAD, CHANNEL);
