import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { go, href } from '../router.js';
import { useAction, usePoll } from './hooks.js';
import { ResourceForm } from './resource-form.js';
import { ErrorLine, Table, type Column } from './table.js';

/** What a page of named objects (channels, outgoing connections, security, topics) is made of. */
export interface CrudProps<T extends { name: string }> {
  /** Singular, for buttons and headings: "channel". */
  readonly noun: string;
  readonly title: string;
  /** The page's key in the address: `#/<pageKey>/edit/<name>`. */
  readonly pageKey: string;
  readonly apiPath: string;
  /** The rest of the address after the page key. */
  readonly route: readonly string[];
  readonly columns: ReadonlyArray<Column<T>>;
  readonly intro?: ComponentChildren;
  /** Refresh the list this often (live state), ms; 0 = only on changes. */
  readonly pollMs?: number;
  readonly choices?: Readonly<Record<string, readonly string[]>>;
  /** A detail view at `#/<pageKey>/view/<name>`. */
  readonly detail?: (name: string) => ComponentChildren;
  /** Below the list (e.g. subscriptions under topics). */
  readonly footer?: ComponentChildren;
}

// What the API computes live is not part of an object's configuration.
function configOf(obj: Record<string, unknown>): Record<string, unknown> {
  const { runtime: _r, depth: _d, ...config } = obj;
  return config;
}

/** Lists, creates, edits and deletes the objects of one API resource. */
export function CrudPage<T extends { name: string }>(props: CrudProps<T>) {
  const [mode, name] = props.route;
  if (mode === 'new') return <CreateView {...props} />;
  if (mode === 'edit' && name) return <EditView {...props} name={name} />;
  if (mode === 'view' && name && props.detail) return <>{props.detail(name)}</>;
  return <ListView {...props} />;
}

function ListView<T extends { name: string }>(props: CrudProps<T>) {
  const { data, error, reload } = usePoll(() => api<T[]>('GET', props.apiPath), props.pollMs ?? 0, [props.apiPath]);
  const [confirming, setConfirming] = useState<string | null>(null);
  const deletion = useAction(() => {
    setConfirming(null);
    reload();
  });
  const remove = (name: string) => deletion.run(() => api('DELETE', `${props.apiPath}/${enc(name)}`), name);

  const actions: Column<T> = {
    title: '',
    cell: (row) =>
      confirming === row.name ? (
        <span class="confirm">
          Delete {row.name}?{' '}
          <button class="danger" onClick={() => remove(row.name)}>
            Yes, delete
          </button>{' '}
          <button onClick={() => setConfirming(null)}>No</button>
        </span>
      ) : (
        <span class="row-actions">
          <a class="button" href={href(props.pageKey, 'edit', row.name)}>
            Edit
          </a>{' '}
          <button onClick={() => setConfirming(row.name)}>Delete</button>
        </span>
      ),
  };
  const nameColumn: Column<T> = {
    title: 'Name',
    cell: (row) => (props.detail ? <a href={href(props.pageKey, 'view', row.name)}>{row.name}</a> : row.name),
  };

  return (
    <section>
      <div class="page-head">
        <h1>{props.title}</h1>
        <a class="button primary" href={href(props.pageKey, 'new')}>
          New {props.noun}
        </a>
      </div>
      {props.intro}
      <ErrorLine error={error ?? deletion.error} />
      {data && (
        <Table
          rows={data}
          rowKey={(r) => r.name}
          columns={[nameColumn, ...props.columns, actions]}
          empty={`No ${props.title.toLowerCase()} yet.`}
        />
      )}
      {props.footer}
    </section>
  );
}

function CreateView<T extends { name: string }>(props: CrudProps<T>) {
  return (
    <section>
      <h1>New {props.noun}</h1>
      <ResourceForm
        method="POST"
        schemaPath={props.apiPath}
        choices={props.choices}
        submitLabel={`Create ${props.noun}`}
        onCancel={() => go(props.pageKey)}
        onSubmit={async (body) => {
          await api('POST', props.apiPath, body);
          go(props.pageKey);
        }}
      />
    </section>
  );
}

function EditView<T extends { name: string }>(props: CrudProps<T> & { name: string }) {
  const [obj, setObj] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Record<string, unknown>>('GET', `${props.apiPath}/${enc(props.name)}`).then(
      (o) => setObj(configOf(o)),
      (err: Error) => setError(err.message),
    );
  }, [props.name]);
  return (
    <section>
      <h1>
        Edit {props.noun} {props.name}
      </h1>
      <ErrorLine error={error} />
      {obj && (
        <ResourceForm
          method="PUT"
          schemaPath={`${props.apiPath}/{name}`}
          initial={obj}
          choices={props.choices}
          submitLabel="Save"
          onCancel={() => go(props.pageKey)}
          onSubmit={async (body) => {
            await api('PUT', `${props.apiPath}/${enc(props.name)}`, body);
            go(props.pageKey);
          }}
        />
      )}
    </section>
  );
}

/** Names offered in forms for fields that refer to services and security definitions. */
export function useChoices(): Record<string, readonly string[]> {
  const [choices, setChoices] = useState<Record<string, readonly string[]>>({});
  useEffect(() => {
    Promise.all([
      api<Array<{ name: string }>>('GET', '/api/services'),
      api<Array<{ name: string }>>('GET', '/api/security'),
    ]).then(
      ([services, security]) => {
        const s = services.map((x) => x.name);
        setChoices({
          service: s,
          hookService: s,
          onConnectService: s,
          onMessageService: s,
          onCloseService: s,
          security: security.map((x) => x.name),
        });
      },
      () => undefined,
    );
  }, []);
  return choices;
}
