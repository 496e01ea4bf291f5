import { useState } from 'preact/hooks';
import type { ChannelConfig } from '../../../src/channels/wsx/config.js';
import { api, enc } from '../api.js';
import { CrudPage, useChoices } from '../components/crud.js';
import { useAction, usePoll } from '../components/hooks.js';
import { InvokeForm } from '../components/invoke-form.js';
import { TapPanel } from '../components/tap-panel.js';
import { ConsolePanel } from '../components/console-panel.js';
import { Badge, ErrorLine, Table, Time } from '../components/table.js';
import { href } from '../router.js';

// The config's shape comes from the server's own schema (type-only: nothing of src/ is bundled).
type Channel = ChannelConfig & {
  runtime: { state: string; connections: number; error?: string; listenAddress?: string; topics?: 'any' | 'restricted' };
};

interface Client {
  pubClientId: string;
  extClientId: string | null;
  extClientName: string | null;
  peerAddress: string;
  protocol: string;
  connectedAt: string;
  lastSeen: string;
  /** The server holding its socket (in a cluster, any server's clients are listed). */
  server: string;
}

/** WebSocket channels, and per channel its connected clients. */
export function ChannelsPage({ route }: { route: string[] }) {
  const choices = useChoices();
  return (
    <CrudPage<Channel>
      noun="channel"
      title="Channels"
      pageKey="channels"
      apiPath="/api/channels/wsx"
      route={route}
      pollMs={2000}
      choices={choices}
      columns={[
        {
          title: 'Address',
          cell: (c) => (
            <>
              <code>{c.address}</code>
              {/* The server's portOffset moves the port it listens on; the stored address stays. */}
              {c.runtime.listenAddress && <div class="muted">listening on {c.runtime.listenAddress}</div>}
            </>
          ),
        },
        { title: 'Protocol', cell: (c) => c.protocol },
        { title: 'Service', cell: (c) => c.service },
        {
          title: 'State',
          cell: (c) => (
            <>
              <Badge state={c.isActive ? c.runtime.state : 'inactive'} />
              {c.runtime.error && <div class="last-error">{c.runtime.error}</div>}
            </>
          ),
        },
        { title: 'Connections', cell: (c) => <span class="num">{c.runtime.connections}</span> },
        {
          title: 'Topics',
          // No pub/sub patterns on the channel or its security definition: its clients may use every topic.
          cell: (c) =>
            c.runtime.topics === 'any' && c.protocol === 'zato' ? (
              <span class="last-error" title="No topicPatterns on the channel or its security definition">
                ⚠ any topic
              </span>
            ) : (
              (c.runtime.topics ?? '')
            ),
        },
      ]}
      detail={(name) => <ChannelClients key={name} name={name} />}
    />
  );
}

function ChannelClients({ name }: { name: string }) {
  const path = `/api/channels/wsx/${enc(name)}/clients`;
  const { data, error, reload } = usePoll(() => api<Client[]>('GET', path), 2000, [name]);
  // This server's name: a tap sees its connections only.
  const health = usePoll(() => api<{ server: string }>('GET', '/api/health'), 0).data;
  // The console connects to the channel's address with its protocol.
  const channel = usePoll(() => api<ChannelConfig>('GET', `/api/channels/wsx/${enc(name)}`), 0, [name]).data;
  const [invoking, setInvoking] = useState<string | null>(null);
  const disconnection = useAction(reload);
  const disconnect = (id: string) => disconnection.run(() => api('DELETE', `${path}/${enc(id)}`));

  return (
    <section>
      <div class="page-head">
        <h1>Channel {name}: connected clients</h1>
        <a class="button" href={href('channels')}>
          All channels
        </a>
      </div>
      <ErrorLine error={error ?? disconnection.error} />
      {data && (
        <Table
          rows={data}
          rowKey={(c) => c.pubClientId}
          empty="No clients connected."
          columns={[
            { title: 'Client id', cell: (c) => c.extClientId ?? <span class="muted">{c.pubClientId}</span> },
            { title: 'Name', cell: (c) => c.extClientName ?? '—' },
            { title: 'Server', cell: (c) => c.server },
            { title: 'Peer', cell: (c) => <code>{c.peerAddress}</code> },
            { title: 'Connected since', cell: (c) => <Time iso={c.connectedAt} /> },
            { title: 'Last seen', cell: (c) => <Time iso={c.lastSeen} /> },
            {
              title: '',
              cell: (c) => (
                <span class="row-actions">
                  {c.protocol !== 'plain' && <button onClick={() => setInvoking(c.pubClientId)}>Invoke</button>}{' '}
                  <button class="danger" onClick={() => disconnect(c.pubClientId)}>
                    Disconnect
                  </button>
                </span>
              ),
            },
          ]}
        />
      )}
      {invoking && (
        <InvokeClient
          path={`${path}/${enc(invoking)}/invoke`}
          clientId={data?.find((c) => c.pubClientId === invoking)?.extClientId ?? invoking}
          onClose={() => setInvoking(null)}
        />
      )}
      {/* The channel's live tools side by side: the operator's tap, and a console connected as a client. */}
      <div class="channel-tools">
        <TapPanel channel={name} clients={data ?? []} server={health?.server ?? ''} />
        {channel && <ConsolePanel key={name} address={channel.address} protocol={channel.protocol} />}
      </div>
    </section>
  );
}

function InvokeClient({ path, clientId, onClose }: { path: string; clientId: string; onClose: () => void }) {
  const [timeout, setTimeoutValue] = useState('5');
  const invoke = async (request: unknown) =>
    (await api<{ response: unknown }>('POST', path, { request: request ?? {}, timeout: Number(timeout) })).response;
  return (
    <InvokeForm title={`Invoke client ${clientId}`} idPrefix="invoke" testId="client-response" invoke={invoke} onClose={onClose}>
      <div class="field narrow">
        <label for="invoke-timeout">Timeout, s</label>
        <input
          id="invoke-timeout"
          name="timeout"
          type="number"
          min="0.1"
          step="any"
          value={timeout}
          onInput={(e) => setTimeoutValue(e.currentTarget.value)}
        />
      </div>
    </InvokeForm>
  );
}
