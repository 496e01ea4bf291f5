import type { ComponentChildren } from 'preact';

/** A column: a heading and how to show one row's cell. */
export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => ComponentChildren;
}

/** A plain table; `empty` shows when there are no rows. */
export function Table<T>({
  rows,
  columns,
  empty,
  rowKey,
}: {
  rows: readonly T[];
  columns: ReadonlyArray<Column<T>>;
  empty: string;
  rowKey: (row: T) => string;
}) {
  if (!rows.length) return <p class="muted">{empty}</p>;
  return (
    <table>
      <thead>
        <tr>
          {columns.map((c) => (
            <th>{c.title}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={rowKey(r)} data-row={rowKey(r)}>
            {columns.map((c) => (
              <td>{c.cell(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A state as a coloured badge (listening, connected, reconnecting, error, stopped…). */
export function Badge({ state }: { state: string }) {
  return <span class={`badge badge-${state}`}>{state}</span>;
}

/** A time as "12:03:04" with the full ISO time on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  const today = d.toDateString() === new Date().toDateString();
  return <time title={iso}>{today ? d.toLocaleTimeString() : d.toLocaleString()}</time>;
}

/** Shows an error message when there is one. */
export function ErrorLine({ error }: { error: string | null | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}
