import { CrudPage } from '../components/crud.js';

interface SecurityDefinition {
  name: string;
  type: string;
  username?: string;
}

/** Security definitions: credentials channels check and outgoing connections send. Secrets are write-only. */
export function SecurityPage({ route }: { route: string[] }) {
  return (
    <CrudPage<SecurityDefinition>
      noun="security definition"
      title="Security definitions"
      pageKey="security"
      apiPath="/api/security"
      route={route}
      intro={
        <p class="muted">Secrets are write-only: they are stored hashed (and sealed for outgoing use) and never shown again.</p>
      }
      columns={[
        { title: 'Type', cell: (s) => s.type },
        { title: 'Username', cell: (s) => s.username ?? '—' },
      ]}
    />
  );
}
