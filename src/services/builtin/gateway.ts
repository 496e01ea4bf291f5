import { ForbiddenError, ValidationError } from '../../errors/index.js';
import { Service } from '../service.js';
import { text, opaque, parseInput } from '../simple-io.js';
import type { ChannelInfo } from '../service-context.js';

/** Services every gateway allows, as in Zato's `helpers.web-sockets-gateway`, plus echo. */
export const DEFAULT_GATEWAY_SERVICES: readonly string[] = [
  'zato.pubsub.pubapi.publish-message',
  'zato.pubsub.pubapi.subscribe-wsx',
  'zato.pubsub.pubapi.unsubscribe',
  'zato.pubsub.resume-wsx-subscription',
  'zato.pubsub.subscription.create-wsx-subscription',
  'zato.ping',
  'zato.helpers.echo',
  'helpers.echo',
];

const DEFAULTS = new Set(DEFAULT_GATEWAY_SERVICES);

/** True when `name` matches one of `patterns` (exact names, or a prefix ending in `*`). */
export function isAllowed(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
}

/** True when the gateway of a channel with these `gatewayServices` lets clients call `service`. */
export function gatewayAllows(service: string, gatewayServices: readonly string[]): boolean {
  return DEFAULTS.has(service) || isAllowed(service, gatewayServices);
}

/** The name of the gateway service. */
export const GATEWAY_SERVICE = 'helpers.web-sockets-gateway';

/** Longest service name a gateway request may name. */
const MAX_SERVICE_NAME_LENGTH = 256;

const GATEWAY_IO = { inputRequired: [text('service')], inputOptional: [opaque('request')] };

/**
 * Reads a gateway request `{ "service": NAME, "request": ... }` and checks that NAME may be called through
 * `channel`; returns the service to invoke and its request, or throws 400 / 403 `service_not_allowed`.
 */
export function resolveGatewayCall(payload: unknown, channel: ChannelInfo): { service: string; request: unknown } {
  const input = parseInput(GATEWAY_IO, payload);
  const service = input.service as string;
  // The name is echoed in error messages and logs: a client must not be able to make those arbitrarily large.
  if (service.length > MAX_SERVICE_NAME_LENGTH) {
    throw new ValidationError('invalid_input', `Element service must be at most ${MAX_SERVICE_NAME_LENGTH} characters`, {
      field: 'service',
    });
  }
  if (!gatewayAllows(service, channel.gatewayServices ?? [])) {
    throw new ForbiddenError('service_not_allowed', `Service ${service} is not allowed through the gateway`);
  }
  return { service, request: input.request };
}

/**
 * The gateway: a channel mounts it to let clients name the service to call, as
 * `{ "service": NAME, "request": {...} }`. Only default and channel-allowed services may be named.
 * (WSX channels that mount it resolve the call themselves with `resolveGatewayCall`, saving a service call.)
 */
export class WebSocketsGateway extends Service {
  static override serviceName = GATEWAY_SERVICE;
  static override io = GATEWAY_IO;

  async handle(): Promise<void> {
    const { service, request } = resolveGatewayCall(this.request.payload, this.channel);
    this.response.payload = await this.invoke(service, request);
  }
}
