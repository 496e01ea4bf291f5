import { ValidationError, InternalError } from '../errors/index.js';

/** The element types SimpleIO knows, after Zato's `Text`, `Int`, `Bool`, `Opaque`, … */
export type ElementType = 'text' | 'int' | 'float' | 'bool' | 'dict' | 'list' | 'opaque' | 'date' | 'dateTime' | 'uuid';

/** One declared input or output element. */
export interface Element {
  readonly name: string;
  readonly type: ElementType;
}

/** An element: a helper's result, or a plain string meaning a text element. */
export type ElementSpec = string | Element;

/** A service's `static io` declaration. */
export interface SimpleIO {
  readonly inputRequired?: readonly ElementSpec[];
  readonly inputOptional?: readonly ElementSpec[];
  readonly outputRequired?: readonly ElementSpec[];
  readonly outputOptional?: readonly ElementSpec[];
}

const make =
  (type: ElementType) =>
  (name: string): Element => ({ name, type });

/** A string element. */
export const text = make('text');
/** An integer; numeric strings such as `"42"` are converted. */
export const int = make('int');
/** A number; numeric strings are converted. */
export const float = make('float');
/** A boolean; `"true"`/`"false"` are converted. */
export const bool = make('bool');
/** A JSON object. */
export const dict = make('dict');
/** A JSON array. */
export const list = make('list');
/** Anything, passed through untouched (e.g. a hook's `ctx`). */
export const opaque = make('opaque');
/** A calendar date `YYYY-MM-DD`, kept as a string. */
export const date = make('date');
/** An ISO 8601 date and time, converted to a `Date`. */
export const dateTime = make('dateTime');
/** A UUID string. */
export const uuid = make('uuid');

function toElement(spec: ElementSpec): Element {
  return typeof spec === 'string' ? { name: spec, type: 'text' } : spec;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const INT_RE = /^-?\d+$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Converted = { ok: true; value: unknown } | { ok: false; expected: string };

function convert(type: ElementType, value: unknown): Converted {
  switch (type) {
    case 'opaque':
      return { ok: true, value };
    case 'text':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
      return { ok: false, expected: 'a string' };
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
      if (typeof value === 'string' && INT_RE.test(value)) return { ok: true, value: Number(value) };
      return { ok: false, expected: 'an integer' };
    case 'float':
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return { ok: true, value: Number(value) };
      return { ok: false, expected: 'a number' };
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, value };
      if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
      return { ok: false, expected: 'a boolean' };
    case 'dict':
      return isRecord(value) ? { ok: true, value } : { ok: false, expected: 'an object' };
    case 'list':
      return Array.isArray(value) ? { ok: true, value } : { ok: false, expected: 'a list' };
    case 'date':
      return typeof value === 'string' && DATE_RE.test(value) && !Number.isNaN(Date.parse(value))
        ? { ok: true, value }
        : { ok: false, expected: 'a date (YYYY-MM-DD)' };
    case 'dateTime': {
      if (value instanceof Date && !Number.isNaN(value.getTime())) return { ok: true, value };
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return { ok: false, expected: 'an ISO 8601 date-time' };
      return { ok: true, value: new Date(value) };
    }
    case 'uuid':
      return typeof value === 'string' && UUID_RE.test(value) ? { ok: true, value } : { ok: false, expected: 'a UUID' };
  }
}

/** True when the declaration names any input element. */
function declaresInput(io: SimpleIO | undefined): boolean {
  return !!io && ((io.inputRequired?.length ?? 0) > 0 || (io.inputOptional?.length ?? 0) > 0);
}

function readElements(
  source: Record<string, unknown>,
  required: readonly ElementSpec[],
  optional: readonly ElementSpec[],
  onError: (field: string, message: string) => Error,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const visit = (spec: ElementSpec, isRequired: boolean) => {
    const el = toElement(spec);
    const raw = source[el.name];
    if (raw === undefined || raw === null) {
      if (isRequired) throw onError(el.name, `Missing required element: ${el.name}`);
      return;
    }
    const result = convert(el.type, raw);
    if (!result.ok) throw onError(el.name, `Element ${el.name} must be ${result.expected}`);
    out[el.name] = result.value;
  };
  for (const spec of required) visit(spec, true);
  for (const spec of optional) visit(spec, false);
  return out;
}

/**
 * Builds `request.input` from a request. With no input declared, an object request is the input as is.
 * A missing or wrongly typed element is a 400 `ValidationError` naming the field.
 */
export function parseInput(io: SimpleIO | undefined, request: unknown): Record<string, unknown> {
  if (!declaresInput(io)) return isRecord(request) ? request : {};
  const source = request === undefined || request === null || request === '' ? {} : request;
  if (!isRecord(source)) throw new ValidationError('invalid_input', 'The request must be a JSON object', { field: 'request' });
  return readElements(
    source,
    io?.inputRequired ?? [],
    io?.inputOptional ?? [],
    (field, message) => new ValidationError('invalid_input', message, { field }),
  );
}

/** Checks a service's response against its declared output; a violation is the service's fault (500). */
export function checkOutput(io: SimpleIO | undefined, payload: unknown): void {
  const required = io?.outputRequired ?? [];
  const optional = io?.outputOptional ?? [];
  if (required.length === 0 && optional.length === 0) return;
  if (!isRecord(payload)) {
    if (required.length === 0 && (payload === undefined || payload === null)) return;
    throw new InternalError('internal_error', 'Service response must be an object with its declared output');
  }
  readElements(
    payload,
    required,
    optional,
    (field, message) => new InternalError('internal_error', `Invalid service output: ${message} (${field})`),
  );
}

/** A plain, JSON-friendly description of a SimpleIO declaration (for the admin API). */
export function describeIO(io: SimpleIO | undefined): Record<string, Element[]> {
  const out: Record<string, Element[]> = {};
  if (!io) return out;
  for (const key of ['inputRequired', 'inputOptional', 'outputRequired', 'outputOptional'] as const) {
    const specs = io[key];
    if (specs?.length) out[key] = specs.map(toElement);
  }
  return out;
}
