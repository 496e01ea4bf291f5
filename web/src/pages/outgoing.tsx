import { CrudPage, useChoices } from '../components/crud.js';
import { Badge, Time } from '../components/table.js';
import type { OutgoingConfig } from '../../../src/outgoing/wsx/config.js';

// The config's shape comes from the server's own schema (type-only: nothing of src/ is bundled).
type Outgoing = OutgoingConfig & {
  runtime: {
    state: string;
    connected: number;
    poolSize?: number;
    nextAttemptAt?: string;
    lastError?: string;
    reconnects?: number;
  };
};

/** Outgoing WebSocket connections with their live state. */
export function OutgoingPage({ route }: { route: string[] }) {
  const choices = useChoices();
  return (
    <CrudPage<Outgoing>
      noun="outgoing connection"
      title="Outgoing connections"
      pageKey="outgoing"
      apiPath="/api/outgoing/wsx"
      route={route}
      pollMs={1000}
      choices={choices}
      columns={[
        { title: 'Address', cell: (o) => <code>{o.address}</code> },
        { title: 'Remote', cell: (o) => (o.isZato ? 'Zato / Switchboard' : 'plain') },
        { title: 'State', cell: (o) => <Badge state={o.runtime.state} /> },
        { title: 'Connected', cell: (o) => <span class="num">{`${o.runtime.connected}/${o.runtime.poolSize ?? '–'}`}</span> },
        { title: 'Next attempt', cell: (o) => <Time iso={o.runtime.nextAttemptAt} /> },
        { title: 'Reconnects', cell: (o) => <span class="num">{o.runtime.reconnects ?? 0}</span> },
        { title: 'Last error', cell: (o) => <span class="last-error">{o.runtime.lastError ?? ''}</span> },
      ]}
    />
  );
}
