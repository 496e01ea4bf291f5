// The public API of the `switchboard` package: what service files and embedders import.
export {
  Service,
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
  type SimpleIO,
  type Element,
  type ElementSpec,
  type ServiceRequest,
  type ServiceResponse,
  type ServiceLogger,
  type ChannelInfo,
  type WsxFacade,
  type WsxChannelHandle,
  type WsxClientInfo,
  type ClientInvokeOptions,
  type OutgoingWsxClient,
  type OutgoingWsxHandle,
  WEB_SOCKET,
  type WsxHookCtx,
} from './services/index.js';
export type { WsxResponse } from './protocol/index.js';
export * from './errors/index.js';
export { startServer, loadSettings, VERSION, type RunningServer, type Settings } from './server/index.js';
