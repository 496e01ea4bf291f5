import { ForbiddenError } from '../../errors/index.js';
import { Service } from '../service.js';
import { text, opaque } from '../simple-io.js';

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

/**
 * The gateway: a channel mounts it to let clients name the service to call, as
 * `{ "service": NAME, "request": {...} }`. Only default and channel-allowed services may be named.
 */
export class WebSocketsGateway extends Service {
  static override serviceName = 'helpers.web-sockets-gateway';
  static override io = { inputRequired: [text('service')], inputOptional: [opaque('request')] };

  async handle(): Promise<void> {
    const name = this.request.input.service as string;
    if (!DEFAULTS.has(name) && !isAllowed(name, this.channel.gatewayServices ?? [])) {
      throw new ForbiddenError(`Service ${name} is not allowed through the gateway`, 'service_not_allowed');
    }
    this.response.payload = await this.invoke(name, this.request.input.request);
  }
}
