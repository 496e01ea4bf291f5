import { api, enc } from '../api.js';
import { usePoll } from '../components/hooks.js';
import { InvokeForm } from '../components/invoke-form.js';
import { ErrorLine, Table, Time } from '../components/table.js';
import { go, href } from '../router.js';

interface IoElement {
  name: string;
  type: string;
}

interface DeployedService {
  name: string;
  source: string;
  deployedAt: string;
  isAlias: boolean;
  io: Partial<Record<'inputRequired' | 'inputOptional' | 'outputRequired' | 'outputOptional', IoElement[]>>;
}

interface Deployment {
  file: string;
  ok: boolean;
  services: string[];
  error?: string;
  at: string;
}

const ioText = (els: IoElement[] | undefined) =>
  els?.length ? els.map((e) => (e.type && e.type !== 'string' ? `${e.name}: ${e.type}` : e.name)).join(', ') : '—';

/** Deployed services with their source and SimpleIO; invoke one with a JSON request. */
export function ServicesPage({ route }: { route: string[] }) {
  const { data, error } = usePoll(() => api<DeployedService[]>('GET', '/api/services'), 5000);
  const selected = route[0] === 'invoke' ? route[1] : undefined;
  return (
    <section>
      <div class="page-head">
        <h1>Services</h1>
      </div>
      <p class="muted">
        Services are TypeScript files in the services directory; saving a file deploys it. Built-in services come with the server.
      </p>
      <ErrorLine error={error} />
      {selected && <InvokeService key={selected} name={selected} />}
      <Deployments />
      {data && (
        <Table
          rows={data}
          rowKey={(s) => s.name}
          empty="No services deployed."
          columns={[
            { title: 'Name', cell: (s) => <strong>{s.name}</strong> },
            { title: 'Source', cell: (s) => <code class="source">{s.source}</code> },
            {
              title: 'Input',
              cell: (s) =>
                `${ioText(s.io.inputRequired)}${s.io.inputOptional?.length ? ` (optional: ${ioText(s.io.inputOptional)})` : ''}`,
            },
            {
              title: 'Output',
              cell: (s) =>
                `${ioText(s.io.outputRequired)}${s.io.outputOptional?.length ? ` (optional: ${ioText(s.io.outputOptional)})` : ''}`,
            },
            { title: 'Deployed', cell: (s) => <Time iso={s.deployedAt} /> },
            {
              title: '',
              cell: (s) => (
                <a class="button" href={href('services', 'invoke', s.name)}>
                  Invoke
                </a>
              ),
            },
          ]}
        />
      )}
    </section>
  );
}

function InvokeService({ name }: { name: string }) {
  const invoke = async (request: unknown) =>
    (await api<{ response: unknown }>('POST', `/api/services/${enc(name)}/invoke`, request === undefined ? {} : { request }))
      .response;
  return (
    <InvokeForm
      title={`Invoke ${name}`}
      idPrefix="service"
      testId="service-response"
      invoke={invoke}
      onClose={() => go('services')}
    />
  );
}

/** Hot deployment per file of the services directory: what each file deployed, or why it did not. */
function Deployments() {
  const { data } = usePoll(() => api<Deployment[]>('GET', '/api/services/deployments'), 5000);
  const failed = data?.filter((d) => !d.ok) ?? [];
  if (!failed.length) return null;
  return (
    <div class="panel deploy-errors">
      <h2>Files that did not deploy</h2>
      <p class="muted">
        The previous version of their services, if any, keeps serving. Fix the file and save it: it deploys again.
      </p>
      <Table
        rows={failed}
        rowKey={(d) => d.file}
        empty=""
        columns={[
          { title: 'File', cell: (d) => <code class="source">{d.file}</code> },
          { title: 'Error', cell: (d) => <pre class="error">{d.error ?? ''}</pre> },
          { title: 'At', cell: (d) => <Time iso={d.at} /> },
        ]}
      />
    </div>
  );
}
