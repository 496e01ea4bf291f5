import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { checkField, fieldsFor, type Field } from '../schema.js';

type Values = Record<string, string | boolean>;
type Errors = Record<string, string>;

/** Props of a form generated from an API body schema. */
export interface ResourceFormProps {
  /** The schema's route, e.g. `POST /api/channels/wsx`. */
  readonly method: 'POST' | 'PUT';
  readonly schemaPath: string;
  /** The object being edited (as the API returned it), or undefined for a new one. */
  readonly initial?: Record<string, unknown> | undefined;
  /** Choices offered for fields that name other objects (services, security definitions). */
  readonly choices?: Readonly<Record<string, readonly string[]>>;
  readonly submitLabel: string;
  readonly onSubmit: (body: Record<string, unknown>) => Promise<void>;
  readonly onCancel?: () => void;
}

function read(obj: Record<string, unknown> | undefined, name: string): unknown {
  return name
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function initialValues(fields: Field[], initial: Record<string, unknown> | undefined): Values {
  const values: Values = {};
  for (const f of fields) {
    const v = read(initial, f.name);
    if (f.kind === 'boolean') values[f.name] = v === undefined ? '' : Boolean(v);
    else if (f.kind === 'list') values[f.name] = Array.isArray(v) ? v.join('\n') : '';
    else if (f.kind === 'secret') values[f.name] = '';
    else values[f.name] = v === undefined || v === null ? '' : String(v);
  }
  return values;
}

function converted(f: Field, raw: string | boolean): unknown {
  if (f.kind === 'boolean') return raw;
  const text = String(raw).trim();
  if (f.kind === 'list')
    return text
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  if (f.kind === 'number' || f.kind === 'integer') return Number(text);
  return text;
}

/** The body to send: unset optional fields are left out (the server fills its defaults); nested names are rebuilt. */
function bodyOf(fields: Field[], values: Values, editing: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[f.name];
    if (raw === undefined || raw === '') {
      // On edit, clearing a nullable field removes it (null); a blank secret keeps the stored one.
      if (editing && f.nullable && f.kind !== 'secret') set(body, f.name, null);
      continue;
    }
    set(body, f.name, converted(f, raw));
  }
  return body;
}

function set(body: Record<string, unknown>, name: string, value: unknown): void {
  const keys = name.split('.');
  let target = body;
  for (const k of keys.slice(0, -1)) target = (target[k] ??= {}) as Record<string, unknown>;
  target[keys[keys.length - 1]!] = value;
}

const label = (name: string) => {
  const words = name
    .replace(/\./g, ' › ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** A create/edit form for any API resource, with inline errors from the schema and from the server. */
export function ResourceForm(props: ResourceFormProps) {
  const [fields, setFields] = useState<Field[] | null>(null);
  const [values, setValues] = useState<Values>({});
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editing = props.initial !== undefined;

  useEffect(() => {
    fieldsFor(props.method, props.schemaPath)
      .then((f) => {
        setFields(f);
        setValues(initialValues(f, props.initial));
      })
      .catch((err: Error) => setFormError(err.message));
  }, [props.method, props.schemaPath]);

  if (!fields) return <p class="muted">{formError ?? 'Loading…'}</p>;

  const change = (f: Field, value: string | boolean) => {
    setValues({ ...values, [f.name]: value });
    const problem = f.kind === 'boolean' || f.kind === 'list' ? undefined : checkField(f, value);
    const next = { ...errors };
    if (problem) next[f.name] = problem;
    else delete next[f.name];
    setErrors(next);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const found: Errors = {};
    for (const f of fields) {
      const problem = f.kind === 'boolean' || f.kind === 'list' ? undefined : checkField(f, values[f.name]);
      if (problem && !(editing && f.kind === 'secret')) found[f.name] = problem;
    }
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await props.onSubmit(bodyOf(fields, values, editing));
    } catch (err) {
      if (err instanceof ApiError && err.field && fields.some((f) => f.name === err.field))
        setErrors({ [err.field]: err.message });
      else setFormError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="resource-form" onSubmit={submit} noValidate>
      {fields.map((f) => (
        <FieldInput
          key={f.name}
          field={f}
          value={values[f.name] ?? ''}
          error={errors[f.name]}
          editing={editing}
          choices={props.choices?.[f.name]}
          onChange={(v) => change(f, v)}
        />
      ))}
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {props.submitLabel}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

interface FieldInputProps {
  readonly field: Field;
  readonly value: string | boolean;
  readonly error: string | undefined;
  readonly editing: boolean;
  readonly choices: readonly string[] | undefined;
  readonly onChange: (value: string | boolean) => void;
}

// How a field's default reads in the form: `yes`/`no` for switches, `none` for null, nothing for an empty list.
function defaultText(f: Field): string | undefined {
  if (f.default === undefined || (Array.isArray(f.default) && f.default.length === 0)) return undefined;
  if (f.default === null) return 'none';
  if (typeof f.default === 'boolean') return f.default ? 'yes' : 'no';
  return typeof f.default === 'object' ? undefined : String(f.default);
}

function FieldInput({ field: f, value, error, editing, choices, onChange }: FieldInputProps) {
  const id = `field-${f.name}`;
  const hint =
    f.kind === 'secret' && editing
      ? 'write-only: leave blank to keep the stored one'
      : f.kind === 'list'
        ? `${f.description ?? ''} one per line`.trim()
        : f.description;
  const text = (e: Event) => onChange((e.currentTarget as HTMLInputElement).value);
  const shown = defaultText(f);
  const placeholder = shown === undefined ? undefined : `default: ${shown}`;
  const unset = shown === undefined ? '(default)' : `(default: ${shown})`;
  let input;
  if (f.kind === 'boolean') {
    input = (
      <select
        id={id}
        name={f.name}
        value={value === '' ? '' : String(value)}
        onChange={(e) => onChange(e.currentTarget.value === '' ? '' : e.currentTarget.value === 'true')}
      >
        <option value="">{unset}</option>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  } else if (f.kind === 'select') {
    input = (
      <select id={id} name={f.name} value={String(value)} onChange={text}>
        <option value="">{f.required ? '— choose —' : unset}</option>
        {f.options!.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    );
  } else if (f.kind === 'list') {
    input = <textarea id={id} name={f.name} rows={2} value={String(value)} onInput={text} />;
  } else if (f.kind === 'multiline') {
    input = <textarea id={id} name={f.name} rows={6} spellcheck={false} value={String(value)} onInput={text} />;
  } else if (f.kind === 'text') {
    // Fields naming services or security definitions offer the deployed names (any name is still accepted).
    input = (
      <input
        id={id}
        name={f.name}
        type="text"
        autocomplete="off"
        list={choices ? `${id}-choices` : undefined}
        placeholder={placeholder}
        value={String(value)}
        onInput={text}
        aria-invalid={error ? 'true' : undefined}
      />
    );
  } else if (f.kind === 'secret') {
    input = (
      <input
        id={id}
        name={f.name}
        type="password"
        autocomplete="new-password"
        value={String(value)}
        onInput={text}
        aria-invalid={error ? 'true' : undefined}
      />
    );
  } else {
    input = (
      <input
        id={id}
        name={f.name}
        type="number"
        step={f.kind === 'integer' ? 1 : 'any'}
        placeholder={placeholder}
        value={String(value)}
        onInput={text}
        aria-invalid={error ? 'true' : undefined}
      />
    );
  }
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>
        {label(f.name)}
        {f.required && <span class="req"> *</span>}
      </label>
      {input}
      {choices && (
        <datalist id={`${id}-choices`}>
          {choices.map((c) => (
            <option value={c} />
          ))}
        </datalist>
      )}
      {hint && <small class="hint">{hint}</small>}
      {error && (
        <small class="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}
