// `switchboard <noun> <verb>` for the nouns the admin API manages by name: channel, outgoing, security, topic.
import { configOf } from './apply.js';
import { callAdminApi, type AdminApiConnection } from './admin-api-client.js';
import { enc, one, parseJson, readStdin, requestFrom, show, toNumber } from './command-line.js';
import { printJson, printObject, printTable } from './output.js';
import { bodyFromFlags, isPlainObject, type Options, type Values } from './resource-flags.js';
import { CHANNEL, SECURITY, type Resource } from './resources.js';
import { UsageError } from './usage-error.js';

type Verb = (conn: AdminApiConnection, positionals: string[], values: Values) => Promise<void>;

/** Flags of the verbs beyond create and update (and `--rename`, `--password-stdin`, `--secret-stdin`). */
export const EXTRA_OPTIONS: Options = {
  rename: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'secret-stdin': { type: 'boolean' },
  request: { type: 'string' },
  'request-file': { type: 'string' },
  timeout: { type: 'string' },
  data: { type: 'string' },
  priority: { type: 'string' },
  expiration: { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
};

/** Runs list, get, create, update, delete or a noun's own verb. */
export async function resourceCommand(
  conn: AdminApiConnection,
  resource: Resource,
  verb: string,
  positionals: string[],
  values: Values,
): Promise<void> {
  const standard = STANDARD_VERBS[verb] ?? EXTRA_VERBS[resource.noun]?.[verb];
  if (!standard) throw new UsageError(`Unknown command: ${resource.noun} ${verb}`);
  return standard(conn, resource, positionals, values);
}

type ResourceVerb = (conn: AdminApiConnection, resource: Resource, positionals: string[], values: Values) => Promise<void>;

const STANDARD_VERBS: Record<string, ResourceVerb> = {
  async list(conn, resource, _positionals, values) {
    const rows = (await callAdminApi(conn, 'GET', resource.path)) as Array<Record<string, unknown>>;
    show(values, rows, () => printTable(rows, resource.columns));
  },
  async get(conn, resource, positionals, values) {
    const obj = (await callAdminApi(conn, 'GET', `${resource.path}/${enc(one(positionals, 'NAME'))}`)) as Record<string, unknown>;
    show(values, obj, () => printObject(obj));
  },
  async create(conn, resource, _positionals, values) {
    const body = bodyFromFlags(resource, values);
    if (resource === SECURITY) readSecretsFromStdin(body, values);
    const created = (await callAdminApi(conn, 'POST', resource.path, body)) as Record<string, unknown>;
    show(values, created, () => console.log(`Created ${resource.noun} ${String(created.name)}`));
  },
  async update(conn, resource, positionals, values) {
    const name = one(positionals, 'NAME');
    const current = configOf((await callAdminApi(conn, 'GET', `${resource.path}/${enc(name)}`)) as Record<string, unknown>);
    const changes = bodyFromFlags(resource, values);
    if (typeof values.rename === 'string') changes.name = values.rename;
    if (resource === SECURITY) readSecretsFromStdin(changes, values);
    if (Object.keys(changes).length === 0) throw new UsageError('Nothing to change: give at least one flag');
    if (resource === SECURITY) delete current.password;
    const updated = (await callAdminApi(conn, 'PUT', `${resource.path}/${enc(name)}`, merged(current, changes))) as Record<
      string,
      unknown
    >;
    show(values, updated, () => console.log(`Updated ${resource.noun} ${String(updated.name)}`));
  },
  async delete(conn, resource, positionals, values) {
    const name = one(positionals, 'NAME');
    const deleted = await callAdminApi(conn, 'DELETE', `${resource.path}/${enc(name)}`);
    show(values, deleted, () => console.log(`Deleted ${resource.noun} ${name}`));
  },
};

// A password or jwt HMAC key read from stdin stays out of the process list and the shell's history.
function readSecretsFromStdin(body: Record<string, unknown>, values: Values): void {
  const field = values['password-stdin'] ? 'password' : values['secret-stdin'] ? 'secret' : undefined;
  if (!field) return;
  if (values['password-stdin'] && values['secret-stdin'])
    throw new UsageError('Give --password-stdin or --secret-stdin, not both');
  body[field] = readStdin().replace(/\r?\n$/, '');
}

// `--reconnect-max 5` changes one field of `reconnect`; the others keep their current values.
function merged(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    const was = out[key];
    out[key] = isPlainObject(was) && isPlainObject(value) ? { ...was, ...value } : value;
  }
  return out;
}

const asResourceVerb =
  (verb: Verb): ResourceVerb =>
  (conn, _resource, positionals, values) =>
    verb(conn, positionals, values);

const EXTRA_VERBS: Record<string, Record<string, ResourceVerb>> = {
  channel: {
    clients: asResourceVerb(async (conn, positionals, values) => {
      const rows = (await callAdminApi(conn, 'GET', `${CHANNEL.path}/${enc(one(positionals, 'NAME'))}/clients`)) as Array<
        Record<string, unknown>
      >;
      show(values, rows, () =>
        printTable(rows, ['pubClientId', 'extClientId', 'extClientName', 'peerAddress', 'connectedAt', 'lastSeen']),
      );
    }),
    disconnect: asResourceVerb(async (conn, positionals, values) => {
      const [name, id] = [one(positionals, 'NAME'), one(positionals.slice(1), 'PUB_CLIENT_ID')];
      const res = await callAdminApi(conn, 'DELETE', `${CHANNEL.path}/${enc(name)}/clients/${enc(id)}`);
      show(values, res, () => console.log(`Disconnected ${id}`));
    }),
    'invoke-client': asResourceVerb(async (conn, positionals, values) => {
      const [name, id] = [one(positionals, 'NAME'), one(positionals.slice(1), 'PUB_CLIENT_ID')];
      const timeout = typeof values.timeout === 'string' ? toNumber('timeout', values.timeout) : undefined;
      const res = (await callAdminApi(conn, 'POST', `${CHANNEL.path}/${enc(name)}/clients/${enc(id)}/invoke`, {
        request: requestFrom(values),
        ...(timeout === undefined ? {} : { timeout }),
      })) as { response: unknown };
      show(values, res, () => printJson(res.response));
    }),
  },
  topic: {
    publish: asResourceVerb(async (conn, positionals, values) => {
      const name = one(positionals, 'NAME');
      if (typeof values.data !== 'string') throw new UsageError('--data JSON is required');
      const body: Record<string, unknown> = { data: parseJson('data', values.data) };
      if (typeof values.priority === 'string') body.priority = toNumber('priority', values.priority);
      if (typeof values.expiration === 'string') body.expiration = toNumber('expiration', values.expiration);
      if (values.gd) body.hasGd = true;
      if (values['no-gd']) body.hasGd = false;
      const res = (await callAdminApi(conn, 'POST', `/api/pubsub/topics/${enc(name)}/publish`, body)) as { msg_id: string };
      show(values, res, () => console.log(res.msg_id));
    }),
    messages: asResourceVerb(async (conn, positionals, values) => {
      const q = new URLSearchParams();
      if (typeof values.after === 'string') q.set('after', values.after);
      if (typeof values.limit === 'string') q.set('limit', values.limit);
      const rows = (await callAdminApi(
        conn,
        'GET',
        `/api/pubsub/topics/${enc(one(positionals, 'NAME'))}/messages?${q}`,
      )) as Array<Record<string, unknown>>;
      show(values, rows, () => printTable(rows, ['seq', 'msg_id', 'priority', 'pub_time_iso', 'data']));
    }),
  },
};
