import type { ServiceRegistry } from '../registry.js';
import { Echo } from './echo.js';
import { Ping } from './ping.js';
import { WebSocketsGateway } from './gateway.js';

export { GATEWAY_SERVICE, gatewayAllows, resolveGatewayCall } from './gateway.js';

/** Deploys the built-in services under source `builtin`. */
export function registerBuiltins(registry: ServiceRegistry): void {
  registry.replaceSource(
    'builtin',
    [Echo, Ping, WebSocketsGateway].map((cls) => ({ name: cls.serviceName, cls })),
  );
}
