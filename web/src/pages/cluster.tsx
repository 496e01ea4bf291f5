import type { ClusterDescription, ClusterMember } from '../../../src/cluster/view.js';
import { api } from '../api.js';
import { usePoll } from '../components/hooks.js';
import { Card } from '../components/card.js';
import { ErrorLine, Table, Time } from '../components/table.js';

const POLL_MS = 2000;

/** "1.2 s ago"; whole seconds from a minute on, where tenths no longer matter. */
const ago = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 1000)} s ago`);

/** The servers sharing the database: heartbeat age, clients, which one does housekeeping (GET /api/cluster). */
export function ClusterPage() {
  const { data, error } = usePoll(() => api<ClusterDescription>('GET', '/api/cluster'), POLL_MS);
  return (
    <section>
      <h1>Cluster</h1>
      <ErrorLine error={error} />
      {data && (
        <>
          <div class="cards">
            <Card label="Database" value={data.database === 'postgres' ? 'PostgreSQL' : 'SQLite'} testId="cluster-database" />
            <Card label="Mode" value={data.clustered ? 'Clustered' : 'Standalone'} testId="cluster-mode" />
            <Card label="Housekeeping" value={data.housekeeper ?? 'none'} testId="cluster-housekeeper" />
            <Card label="Servers" value={data.servers.length} />
          </div>
          <p class="muted">
            {data.clustered
              ? `Each server heartbeats every ${data.heartbeatMs / 1000} s; one without a heartbeat for ${data.expiryMs / 1000} s is removed.`
              : 'A standalone server shares its database with no other: it is the whole cluster, and does the housekeeping.'}
          </p>
          <ServersTable servers={data.servers} heartbeatMs={data.heartbeatMs} />
        </>
      )}
    </section>
  );
}

function ServersTable({ servers, heartbeatMs }: { servers: readonly ClusterMember[]; heartbeatMs: number }) {
  return (
    <Table
      rows={servers}
      rowKey={(s) => s.serverId}
      empty="No live servers."
      columns={[
        {
          title: 'Name',
          cell: (s) => (
            <>
              <strong>{s.name}</strong> {s.housekeeping && <span class="badge badge-housekeeping">housekeeping</span>}{' '}
              {s.self && <span class="badge badge-self">this server</span>}
            </>
          ),
        },
        { title: 'Server id', cell: (s) => <code>{s.serverId}</code> },
        { title: 'Host / pid', cell: (s) => `${s.host} / ${s.pid}` },
        { title: 'Version', cell: (s) => s.version },
        { title: 'Started', cell: (s) => <Time iso={s.startedAt} /> },
        {
          title: 'Heartbeat',
          // Late by more than one beat: the server may be stalled or cut off, and is reaped at expiry.
          cell: (s) => <span class={s.heartbeatAgeMs > 2 * heartbeatMs ? 'num warn' : 'num'}>{ago(s.heartbeatAgeMs)}</span>,
        },
        { title: 'Clients', cell: (s) => <span class="num">{s.clients}</span> },
      ]}
    />
  );
}
