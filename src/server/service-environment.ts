import { InternalError } from '../errors/index.js';
import type { OutgoingWsx, ServiceEnvironment, WsxChannels } from '../services/index.js';
import type { PubSub } from '../pubsub/index.js';

/** The parts services reach through `this.wsx`, `this.out` and `this.pubsub`. */
export interface EnvironmentParts {
  readonly channels: WsxChannels;
  readonly outgoing: OutgoingWsx;
  readonly pubsub: PubSub;
}

/** A `ServiceEnvironment` handed to the invoker now, and the one call that binds its parts once they exist. */
export interface LateBoundEnvironment {
  readonly environment: ServiceEnvironment;
  bind(parts: EnvironmentParts): void;
}

/**
 * The one true construction cycle of the server: the channel and outgoing managers need the invoker (to run the
 * services their clients and hooks name), and the invoker's environment needs them. So the invoker gets this
 * environment, and the server binds the parts right after building them, before anything starts listening; a call
 * before that would be a wiring bug, reported as such.
 */
export function lateBoundEnvironment(): LateBoundEnvironment {
  let parts: EnvironmentParts | undefined;
  const bound = (): EnvironmentParts => {
    if (!parts)
      throw new InternalError('internal_error', 'The server is still being built: services cannot reach other parts yet');
    return parts;
  };
  const environment: ServiceEnvironment = {
    wsx: { channel: (name) => bound().channels.channel(name) },
    outgoingWsx: { get: (name) => bound().outgoing.get(name) },
    pubsub: {
      publish: (topic, data, options = {}) => {
        try {
          return bound().pubsub.publish(topic, { ...options, data });
        } catch (err) {
          return Promise.reject(err as Error);
        }
      },
    },
  };
  return {
    environment,
    bind: (next) => {
      if (parts) throw new InternalError('internal_error', 'The service environment is bound once');
      parts = next;
    },
  };
}
