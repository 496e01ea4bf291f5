import type { Logger } from 'pino';
import { TooManyRequestsError, toSwitchboardError } from '../../errors/index.js';
import { GATEWAY_SERVICE, resolveGatewayCall, type CallingClient, type InvokeDone } from '../../services/index.js';
import type { ConnectionHost } from './connection-host.js';

// How a connection's messages reach the channel's service: the call itself (the gateway's included), the refusal
// of a call over `maxInFlight`, and the log line of a call that failed. Shared by both protocols.

/**
 * Runs the channel's service; `done` gets its payload or a `SwitchboardError`. A channel that
 * mounts the gateway resolves `{ service, request }` itself and invokes the target directly: the same checks
 * as the gateway service, one service call less per message.
 */
// A callback, not a promise: a synchronous service's answer is written in the turn its request arrived in.
export function invokeService(
  host: ConnectionHost,
  client: CallingClient,
  request: unknown,
  cid: string,
  done: InvokeDone,
): void {
  const context = { channel: host.channelInfo, client, cid };
  if (host.config.service !== GATEWAY_SERVICE) return host.invoker.call(host.config.service, request, context, done);
  let call: { service: string; request: unknown };
  try {
    call = resolveGatewayCall(request, host.channelInfo);
  } catch (err) {
    const error = toSwitchboardError(err);
    host.protocolError(error.code);
    return done(error);
  }
  host.invoker.call(call.service, call.request, context, done);
}

/** The refusal of a call over `maxInFlight` (counted in the metrics). */
export function tooManyRequests(host: ConnectionHost): TooManyRequestsError {
  host.protocolError('too_many_requests');
  const max = host.config.maxInFlight;
  return new TooManyRequestsError(
    'too_many_requests',
    `At most ${max} calls may be in flight on one connection; wait for an answer`,
  );
}

/** Logs a failed service call once, at a level that fits its status. */
export function logFailure(log: Logger, err: unknown, cid: string): ReturnType<typeof toSwitchboardError> {
  const e = toSwitchboardError(err);
  if (e.status >= 500) log.error({ cid, code: e.code, err: e.cause ?? e }, 'Service call failed');
  else log.debug({ cid, code: e.code, message: e.message }, 'Service call rejected');
  return e;
}
