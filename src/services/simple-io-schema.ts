// A SimpleIO declaration as JSON Schemas of a service's request and response, for documents that describe the
// services a channel mounts (the AsyncAPI document).
import type { JsonSchema } from '../protocol/index.js';
import { describeIO, type ElementType, type SimpleIO } from './simple-io.js';

const ELEMENT_SCHEMAS: Record<ElementType, JsonSchema> = {
  text: { type: 'string' },
  int: { type: 'integer' },
  float: { type: 'number' },
  bool: { type: 'boolean' },
  dict: { type: 'object' },
  list: { type: 'array' },
  opaque: {},
  date: { type: 'string', format: 'date' },
  dateTime: { type: 'string', format: 'date-time' },
  uuid: { type: 'string', format: 'uuid' },
};

/** The request and the response of a service, as JSON Schemas. */
export interface ServiceSchemas {
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

const INPUT_NOTE = 'numeric strings are accepted for integers and numbers, "true" and "false" for booleans';

function objectOf(io: Record<string, { name: string; type: ElementType }[]>, side: 'input' | 'output'): JsonSchema {
  const required = io[`${side}Required`] ?? [];
  const optional = io[`${side}Optional`] ?? [];
  if (required.length === 0 && optional.length === 0) {
    return { description: `no SimpleIO ${side} declared: any JSON` };
  }
  const properties = Object.fromEntries([...required, ...optional].map((e) => [e.name, ELEMENT_SCHEMAS[e.type]]));
  return {
    type: 'object',
    properties,
    ...(required.length ? { required: required.map((e) => e.name) } : {}),
    ...(side === 'input' ? { description: `SimpleIO input; ${INPUT_NOTE}` } : { description: 'SimpleIO output' }),
  };
}

/**
 * A service's `io` as JSON Schemas: each declared element a property (required ones required), typed as SimpleIO
 * converts it. Without a declaration a side is any JSON. Undeclared request fields are dropped, not refused, so
 * the schemas leave `additionalProperties` open.
 */
export function simpleIoSchemas(io: SimpleIO | undefined): ServiceSchemas {
  const described = describeIO(io);
  return { input: objectOf(described, 'input'), output: objectOf(described, 'output') };
}
