// One service invocation through the invoker: zato.helpers.echo, SimpleIO in and out, no socket.
import { built } from './harness.mjs';

const { ServiceInvoker, ServiceRegistry, registerBuiltins } = await built('services/index.js');
const { silentLogger } = await built('observability/index.js');
const registry = new ServiceRegistry();
registerBuiltins(registry);
const invoker = new ServiceInvoker({ registry, logger: silentLogger });
const REQUEST = { n: 123, text: 'hello' };

export const name = 'ServiceInvoker.invoke (zato.helpers.echo)';
export const run = () => invoker.invoke('zato.helpers.echo', REQUEST);
