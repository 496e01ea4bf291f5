import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A schema that carries its default value in its type, so `Filled` can tell the field is always present. */
export type TDefaulted<T extends TSchema> = TOptional<T & { default: Static<T> }>;

/**
 * An optional field with a default: the default is in the JSON Schema (so the OpenAPI document, the web forms and
 * the CLI's help show it) and in the type (so the filled-in type has the field required).
 */
export function withDefault<T extends TSchema>(schema: T, value: Static<T>): TDefaulted<T> {
  return Type.Optional({ ...schema, default: value } as T & { default: Static<T> }) as TDefaulted<T>;
}

type Unoptional<S extends TSchema> = S extends TOptional<infer Inner extends TSchema> ? Inner : S;
type DefaultedKeys<P extends TProperties> = { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P];
type RequiredKeys<P extends TProperties> = { [K in keyof P]: P[K] extends TOptional<TSchema> ? never : K }[keyof P];
type OptionalKeys<P extends TProperties> = Exclude<keyof P, DefaultedKeys<P> | RequiredKeys<P>>;
type Flatten<T> = { [K in keyof T]: T[K] };
type Shallow<P extends TProperties, V> = Flatten<
  { [K in (RequiredKeys<P> | DefaultedKeys<P>) & keyof V]-?: Exclude<V[K], undefined> } & {
    [K in OptionalKeys<P> & keyof V]?: V[K];
  }
>;
// One level of nesting is enough for our configs (outgoing's `reconnect`), and keeps the compiler's work bounded.
type FilledOf<S extends TSchema, V> =
  Unoptional<S> extends TObject<infer P> ? Shallow<P, Exclude<V, undefined>> : Exclude<V, undefined>;
type Deep<P extends TProperties, V> = Flatten<
  { [K in (RequiredKeys<P> | DefaultedKeys<P>) & keyof V]-?: FilledOf<P[K], V[K]> } & { [K in OptionalKeys<P> & keyof V]?: V[K] }
>;

/**
 * What `fillDefaults` returns for an object schema: required fields as they are, fields with a default required
 * (a nested object's too), other optional fields still optional.
 */
export type Filled<T extends TObject> = Deep<T['properties'], Static<T>>;

/**
 * Deep-copies `input`, drops keys the schema does not know and fills in defaults; validation is the caller's.
 * Keys come out in the schema's order (whatever order the input had), so `get` and `export` read alike every time.
 */
export function fillDefaults<T extends TObject>(schema: T, input: unknown): Filled<T> {
  const filled = Value.Default(schema, Value.Clean(schema, Value.Clone(input))) as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) if (filled[key] !== undefined) ordered[key] = filled[key];
  return ordered as Filled<T>;
}
