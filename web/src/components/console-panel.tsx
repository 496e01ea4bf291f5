import { useEffect, useRef, useState } from 'preact/hooks';
import type * as ClientLibrary from '../../../src/client/index.js';
import { MAX_CONSOLE_FRAMES, recordingWebSocket, shownText, type ConsoleFrame } from './console-frames.js';
import { ErrorLine } from './table.js';

/** The client library as the admin server serves it: the console uses exactly what a user's page would load. */
const CLIENT_URL = '/client/switchboard-client.js';
type Library = typeof ClientLibrary;
let library: Promise<Library> | undefined;
// A variable, so that the bundler leaves the import to the browser.
const loadLibrary = (): Promise<Library> => (library ??= import(/* @vite-ignore */ CLIENT_URL) as Promise<Library>);

type Connected =
  | { readonly kind: 'zato'; readonly client: ClientLibrary.SwitchboardClient }
  | { readonly kind: 'plain'; readonly client: ClientLibrary.PlainClient };

interface Subscribed {
  readonly topic: string;
  readonly subscription: ClientLibrary.Subscription;
}

/** A channel's address as this page can reach it: a wildcard host is this page's host. */
export function reachableUrl(address: string): string {
  try {
    const url = new URL(address);
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = location.hostname;
    return url.toString();
  } catch {
    return address;
  }
}

const time = (d: Date) => `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;

// The library's errors carry the server's stable code (ClientError.code): shown first, as the API's are.
const errorText = (err: unknown): string => {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof Error && 'code' in err ? String(err.code) : undefined;
  return code ? `${code}: ${message}` : message;
};

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: text.trim() === '' ? {} : JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `Not JSON: ${(err as Error).message}` };
  }
}

/**
 * A live console on a channel's page (docs/web-admin.md, "Console"): the page connects to the channel as a client,
 * through the client library the admin server serves, invokes services, publishes and subscribes, and lists every
 * frame in and out with its time. The session is the page's own: closing the page closes it.
 */
export function ConsolePanel({ address, protocol }: { address: string; protocol: 'zato' | 'plain' }) {
  const [url, setUrl] = useState(reachableUrl(address));
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [state, setState] = useState('not connected');
  const [connected, setConnected] = useState<Connected | null>(null);
  const [frames, setFrames] = useState<ConsoleFrame[]>([]);
  const [error, setError] = useState<string | null>(null);
  const key = useRef(0);
  const current = useRef<Connected | null>(null);

  useEffect(() => () => void current.current?.client.close(), []);

  const record = (direction: 'in' | 'out', size: number, text: string) =>
    setFrames((rows) =>
      [...rows, { key: key.current++, direction, at: new Date(), size, text: shownText(text) }].slice(-MAX_CONSOLE_FRAMES),
    );

  const onState = {
    connecting: ({ attempt }: { attempt: number }) => setState(attempt > 1 ? `connecting (attempt ${attempt})` : 'connecting'),
    open: ({ reconnected }: { reconnected: boolean }) => setState(reconnected ? 'open (reconnected)' : 'open'),
    reconnecting: ({ attempt, delayMs, code }: { attempt: number; delayMs: number; code: number }) =>
      setState(`reconnecting: attempt ${attempt} in ${Math.round(delayMs)} ms (closed ${code})`),
    closed: ({ code, reason }: { code: number; reason: string }) => setState(`closed ${code}${reason ? `: ${reason}` : ''}`),
  };

  const connect = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const lib = await loadLibrary();
      const WebSocket = recordingWebSocket(record);
      const made: Connected =
        protocol === 'zato'
          ? {
              kind: 'zato',
              client: await lib.connect(url, {
                WebSocket,
                clientName: 'web admin console',
                on: onState,
                ...(username ? { username } : {}),
                ...(secret ? { secret } : {}),
              }),
            }
          : {
              kind: 'plain',
              client: await lib.connectPlain(url, { WebSocket, on: onState, ...(secret ? { token: secret } : {}) }),
            };
      current.current = made;
      setConnected(made);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const disconnect = async () => {
    const was = current.current;
    current.current = null;
    setConnected(null);
    await was?.client.close();
  };

  return (
    <section class="panel console-panel" aria-label="Console">
      <h2>Console</h2>
      <p class="muted">Connect to this channel as a client from this page, through the client library.</p>
      {!connected ? (
        <form class="console-connect" onSubmit={connect}>
          <label>
            URL <input name="console-url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </label>
          {protocol === 'zato' && (
            <label>
              Username{' '}
              <input
                name="console-username"
                autocomplete="off"
                value={username}
                onInput={(e) => setUsername(e.currentTarget.value)}
              />
            </label>
          )}
          <label>
            {protocol === 'zato' ? 'Secret or token' : 'Token (jwt)'}{' '}
            <input
              name="console-secret"
              type="password"
              autocomplete="new-password"
              value={secret}
              onInput={(e) => setSecret(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Connect</button>
        </form>
      ) : (
        <p class="console-state">
          <span data-testid="console-state">{state}</span> <button onClick={disconnect}>Disconnect</button>
        </p>
      )}
      <ErrorLine error={error} />
      {connected?.kind === 'zato' && <ZatoTools client={connected.client} />}
      {connected?.kind === 'plain' && <PlainTools client={connected.client} />}
      <div class="console-head">
        <h3>Frames</h3>
        <button onClick={() => setFrames([])}>Clear</button>
      </div>
      <ol class="tap-frames console-frames" aria-label="Console frames">
        {frames.map((f) => (
          <li key={f.key} class={`tap-${f.direction}`}>
            <span class="tap-dir">{f.direction === 'in' ? '→ in' : '← out'}</span>
            <span class="tap-time">{time(f.at)}</span>
            <span class="tap-size">{f.size} B</span>
            <code class="tap-text">{f.text}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

function ZatoTools({ client }: { client: ClientLibrary.SwitchboardClient }) {
  const [service, setService] = useState('zato.helpers.echo');
  const [request, setRequest] = useState('{"hello": "switchboard"}');
  const [result, setResult] = useState<string | null>(null);
  const [topic, setTopic] = useState('');
  const [data, setData] = useState('{"hello": "subscribers"}');
  const [subs, setSubs] = useState<Subscribed[]>([]);
  const [received, setReceived] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  const guarded = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const invoke = (e: Event) => {
    e.preventDefault();
    const body = parseJson(request);
    if (!body.ok) return setError(body.error);
    void guarded(async () => {
      const response = service.trim() ? await client.invoke(service.trim(), body.value) : await client.request(body.value);
      setResult(JSON.stringify(response, null, 2));
    });
  };
  const publish = () => {
    const body = parseJson(data);
    if (!body.ok) return setError(body.error);
    void guarded(async () => setResult(`published ${await client.publish(topic, body.value)}`));
  };
  const subscribe = () =>
    guarded(async () => {
      const subscription = await client.subscribe(topic, (m) =>
        setReceived((r) => [...r, `${m.topic} ${m.msgId}: ${JSON.stringify(m.data)}`].slice(-100)),
      );
      setSubs((s) => [...s, { topic, subscription }]);
    });
  const unsubscribe = (s: Subscribed) =>
    guarded(async () => {
      await s.subscription.unsubscribe();
      setSubs((list) => list.filter((x) => x !== s));
    });

  return (
    <div class="console-tools">
      <form onSubmit={invoke}>
        <label>
          Service <input name="console-service" value={service} onInput={(e) => setService(e.currentTarget.value)} />
        </label>
        <span class="muted">through the channel's gateway; empty: the channel's own service</span>
        <textarea name="console-request" rows={3} value={request} onInput={(e) => setRequest(e.currentTarget.value)} />
        <button type="submit">Invoke</button>
      </form>
      <div class="console-pubsub">
        <label>
          Topic <input name="console-topic" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        <textarea name="console-data" rows={2} value={data} onInput={(e) => setData(e.currentTarget.value)} />
        <button onClick={publish} disabled={!topic}>
          Publish
        </button>{' '}
        <button onClick={() => void subscribe()} disabled={!topic}>
          Subscribe
        </button>
        <ul class="console-subs">
          {subs.map((s) => (
            <li key={s.subscription.subKey}>
              {s.topic} <code>{s.subscription.subKey}</code> <button onClick={() => void unsubscribe(s)}>Unsubscribe</button>
            </li>
          ))}
        </ul>
      </div>
      <ErrorLine error={error} />
      {result !== null && <pre data-testid="console-result">{result}</pre>}
      {received.length > 0 && (
        <ol class="console-received" aria-label="Received messages">
          {received.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ol>
      )}
    </div>
  );
}

function PlainTools({ client }: { client: ClientLibrary.PlainClient }) {
  const [message, setMessage] = useState('{"hello": "switchboard"}');
  const [error, setError] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body = parseJson(message);
    try {
      await client.send(body.ok ? body.value : message);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="console-tools" onSubmit={send}>
      <textarea name="console-message" rows={3} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
      <button type="submit">Send</button>
      <ErrorLine error={error} />
    </form>
  );
}
