import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { CrudPage } from '../components/crud.js';
import { useAction, usePoll } from '../components/hooks.js';
import { parseJsonInput } from '../components/invoke-form.js';
import { ErrorLine, Table, Time } from '../components/table.js';
import { href } from '../router.js';
import type { TopicConfig } from '../../../src/pubsub/config.js';

// The config's shape comes from the server's own schema (type-only: nothing of src/ is bundled).
type Topic = TopicConfig & {
  depth: {
    gd: number;
    nonGd: number;
    subscriptions: number;
    suspended?: number;
    dropped?: number;
    lastPublishedAt?: string;
    expired: number;
  };
};

interface Subscription {
  subKey: string;
  topicName: string;
  channelName: string | null;
  pubClientId: string | null;
  extClientId?: string | null;
  queueDepth: number;
  ackMode: string;
  createdAt: string;
  /** At its queue limit: new messages for it are dropped (docs/pubsub.md). */
  suspended?: boolean;
  dropped?: number;
  detachedAt?: string | null;
}

interface StoredMessage {
  msg_id: string;
  seq: number;
  data: unknown;
  priority: number;
  pub_time_iso: string;
  expiration_time_iso: string;
}

/** Topics with depth and last publication, publishing and browsing, and subscriptions. */
export function PubSubPage({ route }: { route: string[] }) {
  return (
    <CrudPage<Topic>
      noun="topic"
      title="Topics"
      pageKey="pubsub"
      apiPath="/api/pubsub/topics"
      route={route}
      pollMs={2000}
      columns={[
        { title: 'Delivery', cell: (t) => (t.hasGd ? 'guaranteed' : 'in memory') },
        { title: 'Depth (GD / in memory)', cell: (t) => <span class="num">{`${t.depth.gd} / ${t.depth.nonGd}`}</span> },
        {
          title: 'Subscriptions',
          cell: (t) => (
            <span class="num">
              {t.depth.subscriptions}
              {t.depth.suspended ? ` (${t.depth.suspended} suspended)` : ''}
            </span>
          ),
        },
        { title: 'Dropped', cell: (t) => <span class="num">{t.depth.dropped ?? 0}</span> },
        { title: 'Last publication', cell: (t) => <Time iso={t.depth.lastPublishedAt} /> },
        { title: 'Active', cell: (t) => (t.isActive ? 'yes' : 'no') },
      ]}
      detail={(name) => <TopicView name={name} />}
      footer={<Subscriptions />}
    />
  );
}

function TopicView({ name }: { name: string }) {
  const [page, setPage] = useState<number[]>([0]);
  const after = page[page.length - 1]!;
  const { data, error, reload } = usePoll(
    () => api<StoredMessage[]>('GET', `/api/pubsub/topics/${enc(name)}/messages?after=${after}&limit=20`),
    0,
    [name, after],
  );
  return (
    <section>
      <div class="page-head">
        <h1>Topic {name}</h1>
        <a class="button" href={href('pubsub')}>
          All topics
        </a>
      </div>
      <Publish topic={name} onPublished={reload} />
      <TopicAccess topic={name} />
      <h2>Stored messages (guaranteed delivery, not yet delivered to every subscriber)</h2>
      <ErrorLine error={error} />
      {data && (
        <Table
          rows={data}
          rowKey={(m) => m.msg_id}
          empty="No stored messages."
          columns={[
            { title: 'Seq', cell: (m) => <span class="num">{m.seq}</span> },
            { title: 'Message id', cell: (m) => <code>{m.msg_id}</code> },
            { title: 'Priority', cell: (m) => m.priority },
            { title: 'Published', cell: (m) => <Time iso={m.pub_time_iso} /> },
            { title: 'Expires', cell: (m) => <Time iso={m.expiration_time_iso} /> },
            { title: 'Data', cell: (m) => <code class="data">{JSON.stringify(m.data)}</code> },
          ]}
        />
      )}
      <div class="actions">
        <button disabled={page.length < 2} onClick={() => setPage(page.slice(0, -1))}>
          Previous page
        </button>
        <button disabled={!data || data.length < 20} onClick={() => setPage([...page, data![data!.length - 1]!.seq])}>
          Next page
        </button>
        <button onClick={reload}>Refresh</button>
      </div>
    </section>
  );
}

interface ChannelAccess {
  channel: string;
  security: string | null;
  open: boolean;
  publish: boolean;
  subscribe: boolean;
}

/** Who may publish and subscribe, by each channel's pub/sub patterns (docs/security.md). */
function TopicAccess({ topic }: { topic: string }) {
  const { data, error } = usePoll(
    () => api<{ channels: ChannelAccess[] }>('GET', `/api/pubsub/topics/${enc(topic)}/access`),
    5000,
    [topic],
  );
  const yes = (ok: boolean) => (ok ? 'yes' : 'no');
  return (
    <>
      <h2>Who may publish and subscribe</h2>
      <ErrorLine error={error} />
      {data && (
        <Table
          rows={data.channels}
          rowKey={(c) => c.channel}
          empty="No zato channel is running."
          columns={[
            { title: 'Channel', cell: (c) => c.channel },
            { title: 'Security', cell: (c) => c.security ?? '' },
            { title: 'Publish', cell: (c) => yes(c.publish) },
            { title: 'Subscribe', cell: (c) => yes(c.subscribe) },
            {
              title: 'Patterns',
              cell: (c) => (c.open ? <span class="last-error">⚠ none: any topic</span> : 'restricted'),
            },
          ]}
        />
      )}
    </>
  );
}

function Publish({ topic, onPublished }: { topic: string; onPublished: () => void }) {
  const [data, setData] = useState('{"hello": "world"}');
  const [priority, setPriority] = useState('5');
  const [expiration, setExpiration] = useState('');
  const [gd, setGd] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const publish = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    try {
      const body: Record<string, unknown> = { data: parseJsonInput(data, 'data'), priority: Number(priority) };
      if (expiration) body.expiration = Number(expiration);
      if (gd) body.hasGd = gd === 'true';
      const res = await api<{ msg_id: string }>('POST', `/api/pubsub/topics/${enc(topic)}/publish`, body);
      setResult(res.msg_id);
      onPublished();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="panel" onSubmit={publish}>
      <h2>Publish</h2>
      <div class="field">
        <label for="publish-data">Data (JSON)</label>
        <textarea id="publish-data" name="data" rows={3} value={data} onInput={(e) => setData(e.currentTarget.value)} />
      </div>
      <div class="row">
        <div class="field narrow">
          <label for="publish-priority">Priority (1–9)</label>
          <input
            id="publish-priority"
            name="priority"
            type="number"
            min="1"
            max="9"
            value={priority}
            onInput={(e) => setPriority(e.currentTarget.value)}
          />
        </div>
        <div class="field narrow">
          <label for="publish-expiration">Expiration, ms</label>
          <input
            id="publish-expiration"
            name="expiration"
            type="number"
            min="1"
            value={expiration}
            onInput={(e) => setExpiration(e.currentTarget.value)}
          />
        </div>
        <div class="field narrow">
          <label for="publish-gd">Guaranteed delivery</label>
          <select id="publish-gd" name="hasGd" value={gd} onChange={(e) => setGd(e.currentTarget.value)}>
            <option value="">(topic's default)</option>
            <option value="true">yes</option>
            <option value="false">no</option>
          </select>
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="primary">
          Publish
        </button>
      </div>
      <ErrorLine error={error} />
      {result && (
        <p class="ok" data-testid="published">
          Published <code>{result}</code>
        </p>
      )}
    </form>
  );
}

function Subscriptions() {
  const { data, error, reload } = usePoll(() => api<Subscription[]>('GET', '/api/pubsub/subscriptions'), 2000);
  const deletion = useAction(reload);
  const remove = (subKey: string) => deletion.run(() => api('DELETE', `/api/pubsub/subscriptions/${enc(subKey)}`));
  return (
    <>
      <h2>Subscriptions</h2>
      <ErrorLine error={error ?? deletion.error} />
      {data && (
        <Table
          rows={data}
          rowKey={(s) => s.subKey}
          empty="No subscriptions."
          columns={[
            { title: 'Sub key', cell: (s) => <code>{s.subKey}</code> },
            { title: 'Topic', cell: (s) => s.topicName },
            {
              title: 'Subscriber',
              cell: (s) =>
                s.pubClientId ? (
                  `${s.channelName ?? ''} · ${s.extClientId ?? s.pubClientId}`
                ) : (
                  <span class="muted">
                    not connected{s.detachedAt ? ' since ' : ''}
                    {s.detachedAt ? <Time iso={s.detachedAt} /> : null}
                  </span>
                ),
            },
            { title: 'Queue depth', cell: (s) => <span class="num">{s.queueDepth}</span> },
            { title: 'State', cell: (s) => (s.suspended ? <strong class="warn">suspended</strong> : 'receiving') },
            { title: 'Dropped', cell: (s) => <span class="num">{s.dropped ?? 0}</span> },
            { title: 'Ack mode', cell: (s) => s.ackMode },
            { title: 'Since', cell: (s) => <Time iso={s.createdAt} /> },
            { title: '', cell: (s) => <button onClick={() => remove(s.subKey)}>Delete</button> },
          ]}
        />
      )}
    </>
  );
}
