export {
  Service,
  type ServiceClass,
  type ServiceRequest,
  type ServiceResponse,
  type ServiceLogger,
  type LogMethod,
} from './service.js';
export {
  text,
  int,
  float,
  bool,
  dict,
  list,
  opaque,
  date,
  dateTime,
  uuid,
  parseInput,
  checkOutput,
  describeIO,
  type Element,
  type ElementSpec,
  type ElementType,
  type SimpleIO,
} from './simple-io.js';
export { ServiceRegistry, type DeployedService } from './registry.js';
export { ServiceInvoker, type CallContext, type CallingClient, type InvokeDone, type ServiceInvokerOptions } from './invoker.js';
export { HotDeployer, type DeploymentStatus, type HotDeployerOptions } from './hot-deploy.js';
export {
  ServiceFaults,
  guardProcess,
  type FaultKind,
  type FaultCounter,
  type StackAttributor,
  type Attribution,
} from './faults.js';
export { enableServiceScopes, type ServiceScope } from './scope.js';
export { registerBuiltins, GATEWAY_SERVICE, gatewayAllows, resolveGatewayCall } from './builtin/index.js';
export { simpleIoSchemas, type ServiceSchemas } from './simple-io-schema.js';
export type {
  ChannelInfo,
  PubSubFacade,
  PublishOptions,
  OutgoingConnections,
  OutgoingWsx,
  OutgoingWsxClient,
  OutgoingWsxHandle,
  ServiceEnvironment,
  WsxChannels,
  WsxChannelHandle,
  WsxClientInfo,
  WsxFacade,
  ClientInvokeOptions,
} from './service-context.js';
export { WEB_SOCKET, type WsxHookCtx } from './hook-context.js';
