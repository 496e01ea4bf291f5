import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import type { EventLoopWatchdog, Metrics } from '../observability/index.js';
import { ServiceNotFoundError, InternalError, toSwitchboardError, type SwitchboardError } from '../errors/index.js';
import { newCid } from '../protocol/index.js';
import type { DeployedService, ServiceRegistry } from './registry.js';
import { runInScope, type ServiceScope } from './scope.js';
import type { Service, ServiceRequest, ServiceRuntime } from './service.js';
import { parseInput, checkOutput, type SimpleIO } from './simple-io.js';
import type {
  ChannelInfo,
  OutgoingConnections,
  PubSubFacade,
  ServiceEnvironment,
  WsxFacade,
  WsxChannelHandle,
  ClientInvokeOptions,
} from './service-context.js';

/** The calling WebSocket client, when a call comes from a WSX channel. */
export interface CallingClient {
  readonly pubClientId: string;
  readonly extClientId: string | undefined;
  readonly extClientName: string | undefined;
  readonly peerAddress: string;
  /** The verified claims of the client's JWT (its security definition is `jwt`); read at each use (a refresh changes them). */
  readonly auth?: { readonly claims: Readonly<Record<string, unknown>> } | undefined;
  send(data: unknown): Promise<void>;
  invoke(data: unknown, options?: ClientInvokeOptions): Promise<unknown>;
}

/** How a call ends: with the service's payload, or with its error (always a `SwitchboardError`). */
export type InvokeDone = (err: SwitchboardError | undefined, payload?: unknown) => void;

/** Where a call comes from. */
export interface CallContext {
  readonly channel?: ChannelInfo;
  readonly client?: CallingClient;
  readonly cid?: string;
}

const INTERNAL: ChannelInfo = { type: 'internal', name: 'internal' };

const notRunning = (what: string) => (): never => {
  throw new InternalError('internal_error', `${what} are not running`);
};

// The environment of an invoker built without a server (unit tests, embedders that only run services).
const NO_ENVIRONMENT: ServiceEnvironment = {
  wsx: { channel: notRunning('WebSocket channels') },
  outgoingWsx: { get: notRunning('Outgoing WebSocket connections') },
  pubsub: { publish: () => Promise.reject(new InternalError('internal_error', 'Publish/subscribe is not running')) },
};

/** What an invoker is built from; everything a call can reach is fixed here, nothing is patched in later. */
export interface ServiceInvokerOptions {
  readonly registry: ServiceRegistry;
  readonly logger: Logger;
  /** `this.wsx`, `this.out` and `this.pubsub`; without it they fail with `internal_error` (an invoker outside a server). */
  readonly environment?: ServiceEnvironment | undefined;
  /** Where service calls are counted and timed, when the server keeps metrics. */
  readonly metrics?: Metrics | undefined;
  /** Who errors escaping a service outside `handle()` are reported to (a `ServiceFaults`), when the server has one. */
  readonly faultOwner?: object | undefined;
  /** Told which service runs, so that a blocked event loop can be blamed on it. */
  readonly watchdog?: EventLoopWatchdog | undefined;
}

/** Invokes services by name: SimpleIO in, `handle()`, SimpleIO out. */
export class ServiceInvoker {
  readonly registry: ServiceRegistry;
  /** What services reach as `this.wsx`, `this.out` and `this.pubsub`. */
  readonly environment: ServiceEnvironment;
  /** Where calls are counted and timed (see `ServiceInvokerOptions`). */
  readonly metrics: Metrics | undefined;
  /** Who errors escaping a service are reported to (see `ServiceInvokerOptions`). */
  readonly faultOwner: object | undefined;
  /** Told which service runs (see `ServiceInvokerOptions`). */
  readonly watchdog: EventLoopWatchdog | undefined;
  readonly #logger: Logger;
  // One scope per deployed entry (a redeploy makes a new entry), so a call allocates none.
  readonly #scopes = new WeakMap<DeployedService, ServiceScope>();
  // Bound once, so that running a call inside its scope allocates no closure.
  readonly #runCall = (entry: DeployedService, name: string, request: unknown, context: CallContext, done: InvokeDone): void =>
    this.#run(entry, name, request, context, done);
  // `this.out` looks connections up at call time, so it sees connections created after the server started.
  readonly #out: OutgoingConnections;
  readonly #pubsub: PubSubFacade;

  constructor(options: ServiceInvokerOptions) {
    this.registry = options.registry;
    this.#logger = options.logger;
    this.environment = options.environment ?? NO_ENVIRONMENT;
    this.metrics = options.metrics;
    this.faultOwner = options.faultOwner;
    this.watchdog = options.watchdog;
    const environment = this.environment;
    this.#out = { wsx: { get: (name) => environment.outgoingWsx.get(name) } };
    this.#pubsub = { publish: (topicName, data, options) => environment.pubsub.publish(topicName, data, options) };
  }

  /**
   * Runs a service and resolves with its `response.payload`. Rejects with a `SwitchboardError`:
   * 404 `service_not_found`, 400 for SimpleIO violations, the service's own typed errors, or 500 `internal_error`.
   */
  invoke(name: string, request: unknown, context: CallContext = {}): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.call(name, request, context, (err, payload) => (err ? reject(err) : resolve(payload))),
    );
  }

  /**
   * `invoke` with a callback, called once with the error or the payload. Called before `call` returns when
   * `handle()` is synchronous, so that a channel's reply leaves in the turn its request arrived in, with no
   * promise or microtask in between (bench/echo: the per-message path of every channel).
   */
  call(name: string, request: unknown, context: CallContext, done: InvokeDone): void {
    const entry = this.registry.get(name);
    if (!entry) {
      this.metrics?.error('service_not_found');
      return done(new ServiceNotFoundError('service_not_found', `Service not found: ${name}`));
    }
    const scope = this.#scopeOf(entry);
    const watchdog = this.watchdog;
    const previous = watchdog ? watchdog.enter(scope.watchId) : 0;
    try {
      // With `serviceScopes` on, the timers, listeners and promises the service creates carry the scope, so that
      // what they throw later names the service (without it, the error's stack does; see faults.ts).
      runInScope(scope, this.#runCall, entry, name, request, context, done);
    } finally {
      watchdog?.leave(previous);
    }
  }

  #run(entry: DeployedService, name: string, request: unknown, context: CallContext, done: InvokeDone): void {
    const started = this.metrics ? performance.now() : 0;
    let service: Service;
    let pending: Promise<void> | void;
    try {
      service = new entry.cls();
      const cid = context.cid ?? newCid();
      service.bindRuntime(
        new CallRuntime(this, name, cid, context.channel ?? INTERNAL, context.client, {
          input: parseInput(entry.cls.io, request),
          payload: request,
          rawRequest: request,
        }),
      );
      pending = service.handle();
    } catch (err) {
      return this.#fail(name, err, started, done);
    }
    // `done` runs outside the try: what the caller's callback throws is the caller's, not the service's.
    if (!pending) return this.#finish(name, entry.cls.io, service, started, done);
    pending.then(
      () => this.#finish(name, entry.cls.io, service, started, done),
      (err: unknown) => this.#fail(name, err, started, done),
    );
  }

  #scopeOf(entry: DeployedService): ServiceScope {
    let scope = this.#scopes.get(entry);
    if (scope) return scope;
    // Hot-deployed entries have their file as source; `builtin` and embedders' own sources are no file.
    const file = isAbsolute(entry.source) ? entry.source : undefined;
    const watchId = this.watchdog ? this.watchdog.register(file ? { service: entry.name, file } : { service: entry.name }) : 0;
    scope = { service: entry.name, file, owner: this.faultOwner, watchId };
    this.#scopes.set(entry, scope);
    return scope;
  }

  // The call's result: its payload, once SimpleIO has checked it (or the error when it fails the check).
  #finish(name: string, io: SimpleIO | undefined, service: Service, started: number, done: InvokeDone): void {
    try {
      checkOutput(io, service.response.payload);
    } catch (err) {
      return this.#fail(name, err, started, done);
    }
    this.metrics?.serviceCall(name, (performance.now() - started) / 1000, true);
    done(undefined, service.response.payload);
  }

  #fail(name: string, err: unknown, started: number, done: InvokeDone): void {
    const error = toSwitchboardError(err);
    this.metrics?.serviceCall(name, (performance.now() - started) / 1000, false);
    this.metrics?.error(error.code);
    done(error);
  }

  /** @internal The logger of one call. */
  loggerFor(cid: string, service: string): Logger {
    return this.#logger.child({ cid, service });
  }

  /** @internal `this.wsx` for a call from `client` (or from no client). */
  wsxFacadeFor(client: CallingClient | undefined): WsxFacade {
    return this.#facadeFor(client);
  }

  /** @internal `this.out`, shared by every call. */
  get outFacade(): OutgoingConnections {
    return this.#out;
  }

  /** @internal `this.pubsub`, shared by every call. */
  get pubsubFacade(): PubSubFacade {
    return this.#pubsub;
  }

  // One facade per calling client (and one for calls with no client), not one per call: the hot path.
  readonly #facades = new WeakMap<CallingClient, WsxFacade>();
  #noClientFacade: WsxFacade | undefined;

  #facadeFor(client: CallingClient | undefined): WsxFacade {
    if (!client) return (this.#noClientFacade ??= this.#wsxFacade(undefined));
    let facade = this.#facades.get(client);
    if (!facade) {
      facade = this.#wsxFacade(client);
      this.#facades.set(client, facade);
    }
    return facade;
  }

  #wsxFacade(client: CallingClient | undefined): WsxFacade {
    const environment = this.environment;
    const channel = (channelName: string): WsxChannelHandle => environment.wsx.channel(channelName);
    const noClient = (): never => {
      throw new InternalError('internal_error', 'This service was not invoked from a WebSocket client');
    };
    return {
      pubClientId: client?.pubClientId,
      extClientId: client?.extClientId,
      extClientName: client?.extClientName,
      peerAddress: client?.peerAddress,
      get claims() {
        return client?.auth?.claims;
      },
      send: (data) => (client ? client.send(data) : Promise.resolve().then(noClient)),
      invoke: (data, options) => (client ? client.invoke(data, options) : Promise.resolve().then(noClient)),
      channel,
    };
  }
}

/** One call's runtime: a single object per call, with methods instead of per-call closures (the hot path). */
class CallRuntime implements ServiceRuntime {
  readonly out: OutgoingConnections;
  readonly pubsub: PubSubFacade;

  constructor(
    private readonly invoker: ServiceInvoker,
    private readonly name: string,
    readonly cid: string,
    readonly channel: ChannelInfo,
    private readonly client: CallingClient | undefined,
    readonly request: ServiceRequest,
  ) {
    this.out = invoker.outFacade;
    this.pubsub = invoker.pubsubFacade;
  }

  // Looked up when a service uses it (few do), not on every call.
  get wsx(): WsxFacade {
    return this.invoker.wsxFacadeFor(this.client);
  }

  logger(): Logger {
    return this.invoker.loggerFor(this.cid, this.name);
  }

  invoke(target: string, request: unknown): Promise<unknown> {
    return this.invoker.invoke(
      target,
      request,
      this.client ? { channel: this.channel, client: this.client } : { channel: this.channel },
    );
  }
}
