// Builds form fields from the API's own OpenAPI document: the forms accept exactly what the API validates.
import { api } from './api.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  nullable?: boolean;
  default?: unknown;
  contentMediaType?: string;
}

/** How a field is edited. */
/** `multiline`: text whose line breaks matter (a PEM key: its schema has a `contentMediaType`). */
export type FieldKind = 'text' | 'multiline' | 'number' | 'integer' | 'boolean' | 'select' | 'list' | 'secret';

/** One form field, from one property of a request body schema (nested objects become `parent.child`). */
export interface Field {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly nullable: boolean;
  readonly options?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly description?: string;
  /** The server's default, from the schema: shown where the field is left empty. */
  readonly default?: unknown;
}

let doc:
  | Promise<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }>
  | undefined;

const SECRETS = new Set(['password', 'secret']);

function kindOf(name: string, s: JsonSchema): { kind: FieldKind; nullable: boolean; options?: string[] } {
  const variants = s.anyOf ?? [s];
  const nullable = s.nullable === true || variants.some((v) => v.type === 'null');
  const real = variants.filter((v) => v.type !== 'null');
  // TypeBox literals arrive as `const` or (OpenAPI 3.0) one-value `enum`s: a union of them is a choice.
  const literal = (v: JsonSchema): unknown[] | undefined => (v.const !== undefined ? [v.const] : v.enum);
  if (real.length && real.every((v) => literal(v)))
    return { kind: 'select', nullable, options: real.flatMap((v) => literal(v)!.map(String)) };
  const first = real[0] ?? {};
  const type = Array.isArray(first.type) ? first.type.find((t) => t !== 'null') : first.type;
  if (type === 'boolean') return { kind: 'boolean', nullable };
  if (type === 'integer') return { kind: 'integer', nullable };
  if (type === 'number') return { kind: 'number', nullable };
  if (type === 'array') return { kind: 'list', nullable };
  if (SECRETS.has(name)) return { kind: 'secret', nullable };
  return { kind: first.contentMediaType === undefined ? 'text' : 'multiline', nullable };
}

function toFields(schema: JsonSchema, prefix = ''): Field[] {
  const required = new Set(schema.required ?? []);
  const fields: Field[] = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const name = prefix + key;
    if (prop.type === 'object' && prop.properties) {
      fields.push(...toFields(prop, `${name}.`));
      continue;
    }
    const numeric = (prop.anyOf ?? [prop]).find((v) => v.type === 'integer' || v.type === 'number') ?? prop;
    const exclusive = typeof numeric.exclusiveMinimum === 'number';
    fields.push({
      name,
      ...kindOf(key, prop),
      required: !prefix && required.has(key),
      ...(numeric.minimum !== undefined || exclusive
        ? { min: exclusive ? (numeric.exclusiveMinimum as number) : numeric.minimum!, exclusiveMin: exclusive }
        : {}),
      ...(numeric.maximum !== undefined ? { max: numeric.maximum } : {}),
      ...(prop.minLength !== undefined ? { minLength: prop.minLength } : {}),
      ...(prop.maxLength !== undefined ? { maxLength: prop.maxLength } : {}),
      ...(prop.pattern !== undefined ? { pattern: prop.pattern } : {}),
      ...(prop.description !== undefined ? { description: prop.description } : {}),
      ...(prop.default !== undefined ? { default: prop.default } : {}),
    });
  }
  return fields;
}

/** The fields of the JSON body that `method path` takes (path as in the document, e.g. `/api/channels/wsx`). */
export async function fieldsFor(method: string, path: string): Promise<Field[]> {
  doc ??= api('GET', '/api/openapi.json');
  const op = (await doc).paths[path]?.[method.toLowerCase()];
  const schema = op?.requestBody?.content['application/json']?.schema;
  if (!schema) throw new Error(`The API has no body schema for ${method} ${path}`);
  return toFields(schema);
}

/** A field's client-side check: the message to show under it, or undefined when the value is fine. */
export function checkField(field: Field, value: unknown): string | undefined {
  const empty = value === undefined || value === '' || value === null;
  if (empty) return field.required ? 'Required' : undefined;
  if (field.kind === 'number' || field.kind === 'integer') {
    const n = Number(value);
    if (!Number.isFinite(n)) return 'Must be a number';
    if (field.kind === 'integer' && !Number.isInteger(n)) return 'Must be a whole number';
    if (field.min !== undefined && (field.exclusiveMin ? n <= field.min : n < field.min))
      return `Must be ${field.exclusiveMin ? 'more than' : 'at least'} ${field.min}`;
    if (field.max !== undefined && n > field.max) return `Must be at most ${field.max}`;
  }
  if (typeof value === 'string') {
    if (field.minLength !== undefined && value.length < field.minLength) return `At least ${field.minLength} characters`;
    if (field.maxLength !== undefined && value.length > field.maxLength) return `At most ${field.maxLength} characters`;
    if (field.pattern && !new RegExp(field.pattern).test(value))
      return field.description ? `Expected ${field.description}` : `Must match ${field.pattern}`;
  }
  return undefined;
}
