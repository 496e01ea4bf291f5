import type { Logger } from 'pino';
import type { SimpleIO } from './simple-io.js';
import type { ChannelInfo, OutgoingConnections, PubSubFacade, WsxFacade } from './service-context.js';

/** A leveled log method: printf-style (`'Response is %j', data`) or an object first (`{ data }, 'Response'`). */
export interface LogMethod {
  (message: string, ...args: unknown[]): void;
  (object: object, message?: string, ...args: unknown[]): void;
}

/** `this.logger`: pino underneath, bound to the call's `cid` and the service name. */
export interface ServiceLogger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
}

/** What a service received. */
export interface ServiceRequest {
  /** The request after SimpleIO: declared elements only, converted; or the object request when nothing is declared. */
  input: Record<string, unknown>;
  /** The request as the channel delivered it (parsed JSON, or a string). */
  payload: unknown;
  /** The request before any processing; the same as `payload` unless the channel says otherwise. */
  rawRequest: unknown;
}

/** What a service returns; set `payload`. */
export interface ServiceResponse {
  payload: unknown;
}

/** The runtime a service instance is bound to before `handle()` runs. */
export interface ServiceRuntime {
  readonly cid: string;
  readonly request: ServiceRequest;
  readonly channel: ChannelInfo;
  readonly wsx: WsxFacade;
  readonly out: OutgoingConnections;
  readonly pubsub: PubSubFacade;
  logger(): Logger;
  invoke(name: string, request: unknown): Promise<unknown>;
}

/**
 * The base class of every service. Subclass it, give it a `static serviceName`, and implement `handle()`.
 * One instance serves one call.
 */
export abstract class Service {
  /** The name the service is deployed under; defaults to `<file>.<kebab-class-name>`. */
  static serviceName?: string;
  /** More names for the same service. */
  static aliases?: readonly string[];
  /** SimpleIO: declared input and output elements. */
  static io?: SimpleIO;

  /** This call's correlation id. */
  cid!: string;
  /** The request. */
  request!: ServiceRequest;
  /** The response; set `this.response.payload`. */
  response: ServiceResponse = { payload: undefined };
  /** Where the call came from. */
  channel!: ChannelInfo;
  /** Outgoing connections: `this.out.wsx.get(name).conn.client()`. */
  out!: OutgoingConnections;
  /** Publish/subscribe: `this.pubsub.publish(topic, data)`. */
  pubsub!: PubSubFacade;

  #runtime: ServiceRuntime | undefined;
  #logger: ServiceLogger | undefined;

  /** The calling WebSocket client, and every channel's clients. */
  get wsx(): WsxFacade {
    // Looked up on use (few services use it), not bound on every call.
    return this.#requireRuntime().wsx;
  }

  /** A logger bound to this call's `cid` and service name. */
  get logger(): ServiceLogger {
    // pino's own typings check format strings against argument types; services get the plain contract.
    if (!this.#logger) this.#logger = this.#requireRuntime().logger() as unknown as ServiceLogger;
    return this.#logger;
  }

  /** Invokes another service, passing this call's channel and client along; resolves with its response payload. */
  invoke<T = unknown>(name: string, request?: unknown): Promise<T> {
    return this.#requireRuntime().invoke(name, request) as Promise<T>;
  }

  /** The service's work. Read `this.request`, set `this.response.payload`. */
  abstract handle(): Promise<void> | void;

  /** @internal Binds the instance to a call; called by the invoker only. */
  bindRuntime(runtime: ServiceRuntime): void {
    this.#runtime = runtime;
    this.cid = runtime.cid;
    this.request = runtime.request;
    this.channel = runtime.channel;
    this.out = runtime.out;
    this.pubsub = runtime.pubsub;
  }

  #requireRuntime(): ServiceRuntime {
    if (!this.#runtime) throw new Error('This service instance is not bound to a call');
    return this.#runtime;
  }
}

/** A class that extends `Service` (what the registry stores). */
export type ServiceClass = (new () => Service) & {
  serviceName?: string;
  aliases?: readonly string[];
  io?: SimpleIO;
};

/** True for a class extending `Service` (and not `Service` itself). */
export function isServiceClass(value: unknown): value is ServiceClass {
  return typeof value === 'function' && value.prototype instanceof Service;
}
