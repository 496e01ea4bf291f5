import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { LineChart } from '../components/chart.js';
import { Card } from '../components/card.js';
import { ErrorLine, Table } from '../components/table.js';

interface Stats {
  at: string;
  connections: number;
  outgoingConnected: number;
  messagesIn: number;
  messagesOut: number;
  serviceCalls: number;
  serviceErrors: number;
  errors: number;
  errorsByCode: Record<string, number>;
  pubsubDepth: number;
  channels: Array<{ name: string; connections: number; messagesIn: number; messagesOut: number }>;
  outgoing: Array<{ name: string; connected: number; messagesIn: number; messagesOut: number; reconnects: number }>;
}

interface Rates {
  in: number;
  out: number;
  calls: number;
}

const POLL_MS = 2000;
const HISTORY = 60;

/** Connections, messages in/out per second, errors, and a live chart of the last two minutes. */
export function DashboardPage() {
  const [stats, setStats] = useState<Stats | null>(null);
  const [history, setHistory] = useState<Rates[]>([]);
  const [error, setError] = useState<string | null>(null);
  const previous = useRef<Stats | null>(null);

  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const s = await api<Stats>('GET', '/api/stats');
        if (!live) return;
        const p = previous.current;
        if (p) {
          const seconds = Math.max(0.001, (Date.parse(s.at) - Date.parse(p.at)) / 1000);
          const rate = (now: number, before: number) => Math.max(0, (now - before) / seconds);
          const r = {
            in: rate(s.messagesIn, p.messagesIn),
            out: rate(s.messagesOut, p.messagesOut),
            calls: rate(s.serviceCalls, p.serviceCalls),
          };
          setHistory((h) => [...h.slice(-(HISTORY - 1)), r]);
        }
        previous.current = s;
        setStats(s);
        setError(null);
      } catch (err) {
        if (live) setError((err as Error).message);
      }
    };
    void poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  const last = history[history.length - 1];
  const fmt = (n: number | undefined) => (n === undefined ? '…' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString());
  return (
    <section>
      <h1>Dashboard</h1>
      <ErrorLine error={error} />
      {stats && (
        <div class="cards">
          <Card label="WebSocket connections" value={stats.connections} testId="connections" />
          <Card label="Outgoing sockets connected" value={stats.outgoingConnected} />
          <Card label="Messages in / s" value={fmt(last?.in)} />
          <Card label="Messages out / s" value={fmt(last?.out)} />
          <Card label="Service calls / s" value={fmt(last?.calls)} />
          <Card label="Errors (since start)" value={stats.errors} className={stats.errors ? 'warn' : ''} />
          <Card label="Pub/sub messages waiting" value={stats.pubsubDepth} />
        </div>
      )}
      <LineChart
        capacity={HISTORY}
        series={[
          { name: 'in / s', className: 's-in', points: history.map((h) => h.in) },
          { name: 'out / s', className: 's-out', points: history.map((h) => h.out) },
          { name: 'service calls / s', className: 's-calls', points: history.map((h) => h.calls) },
        ]}
      />
      {stats && (
        <div class="row">
          <div class="grow">
            <h2>Channels</h2>
            <Table
              rows={stats.channels}
              rowKey={(c) => c.name}
              empty="No channel has run yet."
              columns={[
                { title: 'Channel', cell: (c) => c.name },
                { title: 'Connections', cell: (c) => <span class="num">{c.connections}</span> },
                { title: 'Messages in', cell: (c) => <span class="num">{c.messagesIn.toLocaleString()}</span> },
                { title: 'Messages out', cell: (c) => <span class="num">{c.messagesOut.toLocaleString()}</span> },
              ]}
            />
          </div>
          <div class="grow">
            <h2>Outgoing connections</h2>
            <Table
              rows={stats.outgoing}
              rowKey={(o) => o.name}
              empty="No outgoing connection has run yet."
              columns={[
                { title: 'Connection', cell: (o) => o.name },
                { title: 'Connected', cell: (o) => <span class="num">{o.connected}</span> },
                { title: 'In', cell: (o) => <span class="num">{o.messagesIn.toLocaleString()}</span> },
                { title: 'Out', cell: (o) => <span class="num">{o.messagesOut.toLocaleString()}</span> },
                { title: 'Reconnects', cell: (o) => <span class="num">{o.reconnects}</span> },
              ]}
            />
          </div>
        </div>
      )}
      {stats && Object.keys(stats.errorsByCode).length > 0 && (
        <>
          <h2>Errors by code</h2>
          <ul class="codes">
            {Object.entries(stats.errorsByCode).map(([code, n]) => (
              <li>
                <code>{code}</code> {n}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
