// Command-line flags generated from a config object's TypeBox schema: one flag per field, parsed by the field's
// type, with its help (description and default) from the schema, so the CLI cannot drift from what the API takes.
import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UsageError } from './usage-error.js';

/** How a flag's text becomes a value. */
export type FlagKind = 'string' | 'number' | 'enum' | 'list' | 'json' | 'boolean';

/** One command-line flag that sets one field (or, for `json`, one nested object) of an API body. */
export interface SchemaFlag {
  /** The flag without `--`: the field in kebab case (`pingInterval` → `ping-interval`, `reconnect.max` → `reconnect-max`). */
  readonly flag: string;
  /** Other spellings that set the same field: a list's plural, a boolean's off switch is `off`. */
  readonly aliases: readonly string[];
  /** Booleans only: the switch that sets `false` (`--no-gd`), besides `flag` setting `true`. */
  readonly off?: string;
  /** Where the value goes in the body: `['reconnect', 'max']`. */
  readonly path: readonly string[];
  readonly kind: FlagKind;
  /** The field takes `null`, given as `none`. */
  readonly nullable: boolean;
  /** The schema a value must meet (without the `null` branch). */
  readonly schema: TSchema;
  readonly required: boolean;
  readonly description: string;
  readonly default?: unknown;
}

/** `maxMessageSize` → `max-message-size`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

// `isActive` → `active`, `hasGd` → `gd`: on/off switches read better without the prefix (`--gd` / `--no-gd`).
const switchName = (field: string): string =>
  kebab(field.replace(/^(is|has)(?=[A-Z])/, '').replace(/^./, (c) => c.toLowerCase()));

// A repeatable flag names one item: `allowedOrigins` → `allowed-origin`, `subscriptionList` → `subscription`.
const itemName = (field: string): string => kebab(field.endsWith('List') ? field.slice(0, -4) : field.replace(/s$/, ''));

function withoutNull(schema: TSchema): { schema: TSchema; nullable: boolean } {
  if (!KindGuard.IsUnion(schema)) return { schema, nullable: false };
  const rest = schema.anyOf.filter((s) => !KindGuard.IsNull(s));
  const nullable = rest.length < schema.anyOf.length;
  if (rest.length === 1) return { schema: rest[0]!, nullable };
  return { schema: nullable ? { ...schema, anyOf: rest } : schema, nullable };
}

function kindOf(schema: TSchema): FlagKind {
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteral(s))) return 'enum';
  if (KindGuard.IsNumber(schema) || KindGuard.IsInteger(schema)) return 'number';
  if (KindGuard.IsBoolean(schema)) return 'boolean';
  if (KindGuard.IsArray(schema)) return 'list';
  if (KindGuard.IsObject(schema)) return 'json';
  return 'string';
}

/** The flags of every field of `schema`; a nested object gets a JSON flag and one flag per field of its own. */
export function flagsOf(schema: TObject, prefix: readonly string[] = []): SchemaFlag[] {
  const required = new Set(schema.required ?? []);
  const flags: SchemaFlag[] = [];
  for (const [field, fieldSchema] of Object.entries(schema.properties)) {
    const path = [...prefix, field];
    const { schema: real, nullable } = withoutNull(fieldSchema);
    const kind = kindOf(real);
    const name = path.map(kebab).join('-');
    const common = {
      path,
      kind,
      nullable,
      schema: real,
      required: !prefix.length && required.has(field),
      description: String(fieldSchema.description ?? ''),
    };
    const defaulted = 'default' in fieldSchema ? { default: fieldSchema.default as unknown } : {};
    if (kind === 'boolean') {
      const on = [...prefix.map(kebab), switchName(field)].join('-');
      flags.push({ flag: on, off: `no-${on}`, aliases: on === name ? [] : [name], ...common, ...defaulted });
    } else if (kind === 'list') {
      const item = [...prefix.map(kebab), itemName(field)].join('-');
      flags.push({ flag: item, aliases: item === name ? [] : [name], ...common, ...defaulted });
    } else {
      flags.push({ flag: name, aliases: [], ...common, ...defaulted });
    }
    if (kind === 'json' && KindGuard.IsObject(real)) flags.push(...flagsOf(real, path));
  }
  return flags;
}

/** What a value must look like, for help and errors: `a whole number from 1 to 64`, `one of zato, plain`. */
export function expected(flag: SchemaFlag): string {
  const s = flag.schema as TSchema & { minimum?: number; maximum?: number; exclusiveMinimum?: number; minLength?: number };
  let what: string;
  if (flag.kind === 'enum') what = `one of ${literals(flag.schema).join(', ')}`;
  else if (flag.kind === 'number') what = `${KindGuard.IsInteger(s) ? 'a whole number' : 'a number'}${bounds(s)}`;
  else if (flag.kind === 'json') what = 'a JSON object';
  else what = s.minLength ? 'a non-empty text' : 'a text';
  return flag.nullable ? `${what}, or none` : what;
}

function bounds(s: { minimum?: number; maximum?: number; exclusiveMinimum?: number }): string {
  if (s.exclusiveMinimum !== undefined)
    return ` above ${s.exclusiveMinimum}${s.maximum !== undefined ? ` and at most ${s.maximum}` : ''}`;
  if (s.minimum !== undefined)
    return s.maximum !== undefined ? ` from ${s.minimum} to ${s.maximum}` : ` of at least ${s.minimum}`;
  return s.maximum !== undefined ? ` of at most ${s.maximum}` : '';
}

/** The values an enum flag takes. */
export function literals(schema: TSchema): string[] {
  return KindGuard.IsUnion(schema) ? schema.anyOf.filter((s) => KindGuard.IsLiteral(s)).map((s) => String(s.const)) : [];
}

/** One flag's text as the field's value; a value the schema refuses is a `UsageError` naming the flag. */
export function parseFlagValue(flag: SchemaFlag, text: string): unknown {
  if (flag.nullable && text === 'none') return null;
  const value = typedValue(flag, text);
  if (!Value.Check(flag.schema, value)) {
    const first = flag.kind === 'json' ? [...Value.Errors(flag.schema, value)][0] : undefined;
    const detail = first ? `: ${first.path || '/'} ${first.message}` : '';
    throw new UsageError(`--${flag.flag} must be ${expected(flag)} (got ${text})${detail}`);
  }
  return value;
}

function typedValue(flag: SchemaFlag, text: string): unknown {
  if (flag.kind === 'number') return text.trim() === '' ? Number.NaN : Number(text);
  if (flag.kind !== 'json') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--${flag.flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A list flag's items (each checked against the item schema). */
export function parseListValue(flag: SchemaFlag, items: readonly string[]): string[] {
  const itemSchema = KindGuard.IsArray(flag.schema) ? flag.schema.items : flag.schema;
  for (const item of items) {
    if (!Value.Check(itemSchema, item)) throw new UsageError(`--${flag.flag} takes non-empty values (got "${item}")`);
  }
  return [...items];
}

/** How help shows a default: `none` for null and empty lists, text as is, the rest as JSON. */
export function showDefault(value: unknown): string {
  if (value === null || (Array.isArray(value) && value.length === 0)) return 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
