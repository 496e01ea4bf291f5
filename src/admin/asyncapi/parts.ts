// The maps of an AsyncAPI document being built, with the keys and `$ref`s that tie them together.
import type { JsonSchema } from '../../protocol/index.js';
import { simpleIoSchemas, type SimpleIO } from '../../services/index.js';

/** An AsyncAPI object (server, channel, operation, message, security scheme) as plain JSON. */
export type AsyncApiObject = { readonly [field: string]: unknown };

/** A `$ref` to an object of the document. */
export type Ref = { readonly $ref: string };

/** A key for a map of the document: AsyncAPI keys are `[\w.-]`, and the first of two alike gets no suffix. */
export class Keys {
  readonly #taken = new Set<string>();

  take(wanted: string): string {
    const base = wanted.replace(/[^\w.-]/g, '_') || '_';
    let key = base;
    for (let n = 2; this.#taken.has(key); n++) key = `${base}-${n}`;
    this.#taken.add(key);
    return key;
  }
}

/** The request and response schema of a service, as `$ref`s (or inline, when it is not deployed). */
export interface ServicePayloads {
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

/**
 * What the document is made of: its servers, channels and operations, and the components they refer to.
 * Every `add…` returns the key it used; every reference is built here, so none can point at nothing.
 */
export class DocumentParts {
  readonly servers: Record<string, AsyncApiObject> = {};
  readonly channels: Record<string, AsyncApiObject> = {};
  readonly operations: Record<string, AsyncApiObject> = {};
  readonly schemas: Record<string, JsonSchema> = {};
  readonly messages: Record<string, AsyncApiObject> = {};
  readonly securitySchemes: Record<string, AsyncApiObject> = {};
  readonly #channelKeys = new Keys();
  readonly #operationKeys = new Keys();
  readonly #serviceKeys = new Keys();
  readonly #securityKeys = new Keys();
  readonly #schemeKeys = new Map<string, string>();
  readonly #services: ReadonlyMap<string, SimpleIO | undefined>;
  readonly #payloads = new Map<string, ServicePayloads>();

  constructor(services: ReadonlyMap<string, SimpleIO | undefined>) {
    this.#services = services;
  }

  /** True when a service of that name is deployed. */
  deployed(service: string): boolean {
    return this.#services.has(service);
  }

  /** Names of the deployed services, sorted. */
  serviceNames(): string[] {
    return [...this.#services.keys()].sort();
  }

  /** A Switchboard channel's server (same key as its channel); returns its `$ref`. */
  addServer(key: string, server: AsyncApiObject): Ref {
    this.servers[key] = server;
    return { $ref: `#/servers/${key}` };
  }

  /** Reserves a channel key, so that the server and the channel of one Switchboard channel share it. */
  channelKey(wanted: string): string {
    return this.#channelKeys.take(wanted);
  }

  addChannel(key: string, channel: AsyncApiObject): Ref {
    this.channels[key] = channel;
    return { $ref: `#/channels/${key}` };
  }

  addOperation(wanted: string, operation: AsyncApiObject): string {
    const key = this.#operationKeys.take(wanted);
    this.operations[key] = operation;
    return key;
  }

  /** A message shared by every channel of a kind (`components.messages`), made on first use. */
  sharedMessage(key: string, make: () => AsyncApiObject): Ref {
    if (!(key in this.messages)) this.messages[key] = make();
    return { $ref: `#/components/messages/${key}` };
  }

  /** A schema shared by many messages (`components.schemas`), made on first use. */
  sharedSchema(key: string, make: () => JsonSchema): Ref {
    if (!(key in this.schemas)) this.schemas[key] = make();
    return schemaRef(key);
  }

  /** A security scheme (`components.securitySchemes`), made on first use of its `id`. */
  securityScheme(id: string, make: () => AsyncApiObject): Ref {
    let key = this.#schemeKeys.get(id);
    if (key === undefined) {
      key = this.#securityKeys.take(id);
      this.#schemeKeys.set(id, key);
      this.securitySchemes[key] = make();
    }
    return { $ref: `#/components/securitySchemes/${key}` };
  }

  /** A service's request and response schemas from its SimpleIO, in `components.schemas` once per service. */
  servicePayloads(service: string): ServicePayloads {
    const known = this.#payloads.get(service);
    if (known) return known;
    let payloads: ServicePayloads;
    if (!this.#services.has(service)) {
      const missing = { description: `service ${service} is not deployed: calls get 404 service_not_found` };
      payloads = { input: missing, output: missing };
    } else {
      const { input, output } = simpleIoSchemas(this.#services.get(service));
      const key = this.#serviceKeys.take(service);
      this.schemas[`${key}.input`] = { title: `${service} request`, ...input };
      this.schemas[`${key}.output`] = { title: `${service} response`, ...output };
      payloads = { input: schemaRef(`${key}.input`), output: schemaRef(`${key}.output`) };
    }
    this.#payloads.set(service, payloads);
    return payloads;
  }
}

const schemaRef = (key: string): Ref => ({ $ref: `#/components/schemas/${key}` });

/** The `$ref` of a message of a channel, as operations must name it. */
export function messageRef(channel: Ref, message: string): Ref {
  return { $ref: `${channel.$ref}/messages/${message}` };
}
