import { useEffect, useRef, useState } from 'preact/hooks';
import type { TapEvent, TapStopReason } from '../../../src/channels/wsx/tap-events.js';
import { apiStream, enc } from '../api.js';
import { readEvents, type StreamEvent } from '../sse.js';
import { ErrorLine } from './table.js';

/** Rows kept on the page: older ones are dropped, so a long tap never grows the page. */
export const MAX_TAP_ROWS = 500;

/** A client the tap may be narrowed to. */
export interface TapClient {
  readonly pubClientId: string;
  readonly extClientId: string | null;
  /** The server holding its socket: a tap sees this server's connections only. */
  readonly server: string;
}

interface Started {
  readonly tapId: string;
  readonly server: string;
  readonly rate: number;
}

type Row = (TapEvent & { readonly key: number }) | { readonly type: 'note'; readonly key: number; readonly text: string };

const STOP_REASONS: Record<TapStopReason, string> = {
  stopped: 'stopped by an operator',
  watcher_closed: 'stopped',
  watcher_not_reading: 'this page did not keep up and was dropped',
  idle: 'no frames for its idle time',
  max_duration: 'its maximum duration passed',
  client_disconnected: 'the client disconnected',
  server_stopping: 'the server is stopping',
  internal_error: 'an internal error (see the server log)',
};

const time = (iso: string) => {
  const d = new Date(iso);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

/**
 * An operator's live view of a channel's frames, or of one client's: started and stopped here, streamed from
 * `GET …/tap` (docs/web-admin.md, "Tap"). Texts arrive masked and cut by the server; at most `MAX_TAP_ROWS` rows stay.
 */
export function TapPanel({ channel, clients, server }: { channel: string; clients: readonly TapClient[]; server: string }) {
  const [target, setTarget] = useState('');
  const [rate, setRate] = useState('50');
  const [rows, setRows] = useState<Row[]>([]);
  const [started, setStarted] = useState<Started | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const key = useRef(0);
  const labels = new Map(clients.map((c) => [c.pubClientId, c.extClientId ?? c.pubClientId]));

  // Leaving the page stops the tap (the request closes).
  useEffect(() => () => abort.current?.abort(), []);
  // A chosen client that has gone is chosen no more: the list shows what Start would tap.
  const known = target === '' || clients.some((c) => c.pubClientId === target);
  useEffect(() => {
    if (!known && abort.current === null) setTarget('');
  }, [known]);

  const add = (events: Row[]) => setRows((prev) => [...events.reverse(), ...prev].slice(0, MAX_TAP_ROWS));
  const note = (text: string): Row => ({ type: 'note', key: ++key.current, text });

  const onEvents = (events: StreamEvent[]) => {
    const fresh: Row[] = [];
    for (const { type, data } of events) {
      if (type === 'started') setStarted(data as Started);
      else if (type === 'frame' || type === 'skipped' || type === 'stopped')
        fresh.push({ ...(data as TapEvent), key: ++key.current });
    }
    if (fresh.length) add(fresh);
  };

  const start = async () => {
    setError(null);
    const controller = new AbortController();
    abort.current = controller;
    const query = new URLSearchParams({ rate });
    if (target) query.set('pubClientId', target);
    // Running from the click on, so that a second click cannot start a second tap while the first opens.
    setStarted({ tapId: '', server, rate: Number(rate) });
    try {
      const stream = await apiStream(`/api/channels/wsx/${enc(channel)}/tap?${query}`, controller.signal);
      await readEvents(stream, onEvents);
    } catch (err) {
      if (!controller.signal.aborted) setError((err as Error).message);
    } finally {
      if (abort.current === controller) abort.current = null;
      setStarted(null);
    }
  };

  const stop = () => {
    abort.current?.abort();
    add([note('Tap stopped.')]);
  };

  const running = started !== null;
  return (
    <section class="panel tap" aria-label="Tap">
      <h2>Tap</h2>
      <p class="muted">
        Every frame in and out, live, with secrets and tokens masked; over the rate, frames are counted as skipped. A tap sees the
        connections of this server ({server}) only.
      </p>
      <div class="row">
        <div class="field grow">
          <label for="tap-client">Clients</label>
          <select id="tap-client" value={target} disabled={running} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="">All clients of the channel</option>
            {clients.map((c) => (
              <option value={c.pubClientId} disabled={c.server !== server}>
                {c.extClientId ? `${c.extClientId} (${c.pubClientId})` : c.pubClientId}
                {c.server !== server ? ` — on ${c.server}` : ''}
              </option>
            ))}
          </select>
        </div>
        <div class="field narrow">
          <label for="tap-rate">Frames per second</label>
          <input
            id="tap-rate"
            type="number"
            min="1"
            max="1000"
            value={rate}
            disabled={running}
            onInput={(e) => setRate(e.currentTarget.value)}
          />
        </div>
      </div>
      <div class="actions">
        {running ? (
          <button class="danger" onClick={stop}>
            Stop
          </button>
        ) : (
          <button class="primary" onClick={() => void start()}>
            Start
          </button>
        )}
        <button onClick={() => setRows([])}>Clear</button>
        {running && <span class="badge badge-listening">tapping</span>}
      </div>
      <ErrorLine error={error} />
      <ol class="tap-frames" data-testid="tap-frames">
        {rows.map((row) => (
          <TapRow key={row.key} row={row} label={(id) => labels.get(id) ?? id} />
        ))}
      </ol>
    </section>
  );
}

function TapRow({ row, label }: { row: Row; label: (pubClientId: string) => string }) {
  if (row.type === 'note') return <li class="tap-note">{row.text}</li>;
  if (row.type === 'skipped')
    return (
      <li class="tap-skipped">
        {row.count} frames skipped (over the rate) — {time(row.at)}
      </li>
    );
  if (row.type === 'stopped')
    return (
      <li class="tap-note">
        Tap stopped: {STOP_REASONS[row.reason] ?? row.reason} ({row.frames} frames shown, {row.skipped} skipped).
      </li>
    );
  const inbound = row.direction === 'in';
  return (
    <li class={`tap-frame tap-${row.direction}`} data-direction={row.direction}>
      <span class="tap-dir" title={inbound ? 'from the client' : 'to the client'}>
        {inbound ? '→ in' : '← out'}
      </span>
      <time title={row.at}>{time(row.at)}</time>
      <span class="tap-client">{label(row.pubClientId)}</span>
      <span class="tap-size">
        {row.size} B{row.truncated ? ' (cut)' : ''}
        {row.binary ? ' binary' : ''}
      </span>
      <code class="tap-text">{row.text}</code>
    </li>
  );
}
