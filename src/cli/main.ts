import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VERSION } from '../server/version.js';
import { ConfigFileError, configOf, runApply, runExport } from './apply.js';
import { ApiError, call, resolveConnection, type Connection } from './client.js';
import { printJson, printObject, printTable } from './output.js';
import { CHANNEL, RESOURCES, type Resource } from './resources.js';

/** A mistake in the command line: exit code 2 with usage. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | string[] | undefined>;
type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const USAGE = `Usage: switchboard <noun> <verb> [arguments] [--json] [--url URL] [--token TOKEN]

  channel    list | get NAME | create --name N --address ws://h:p/path --service S [...] | update NAME [...] | delete NAME
             clients NAME | disconnect NAME PUB_CLIENT_ID | invoke-client NAME PUB_CLIENT_ID --request JSON [--timeout S]
  outgoing   list | get NAME | create --name N --address ws://… [--zato] [...] | update NAME [...] | delete NAME
  security   list | get NAME | create --name N --type basic_auth|apikey [--username U] (--password P | --password-stdin) | delete NAME
  service    list | get NAME | deployments | invoke NAME [--request JSON | --request-file FILE | --request -]
  stats      live totals: connections, messages in/out, service calls, errors, pub/sub depth
  topic      list | get NAME | create --name /t [...] | update NAME [...] | delete NAME
             publish NAME --data JSON [--priority 1-9] [--expiration MS] [--gd | --no-gd] | messages NAME [--after SEQ] [--limit N]
  subscription  list | get SUB_KEY | delete SUB_KEY
  apply      -f FILE [--prune] [--dry-run] [--verbose] [--force-secrets]   make the server match FILE (- = stdin)
  export     [-o FILE]                                                      print the config in the format apply takes

The admin API is SWITCHBOARD_ADMIN_URL (or http://SWITCHBOARD_ADMIN_HOST:SWITCHBOARD_ADMIN_PORT, default
http://127.0.0.1:17010); the token is SWITCHBOARD_ADMIN_TOKEN or the file data/admin-token.
Run 'switchboard <noun> --help' for a noun's flags.`;

function resourceOptions(resource: Resource): Options {
  const options: Options = {};
  for (const field of resource.fields) options[field.flag] = { type: 'string', multiple: field.type === 'list' };
  for (const sw of resource.switches) {
    options[sw.on] = { type: 'boolean' };
    options[sw.off] = { type: 'boolean' };
  }
  return options;
}

function resourceHelp(resource: Resource): string {
  const lines = [`switchboard ${resource.noun} — ${resource.plural}`, '', 'Flags for create and update:'];
  for (const field of resource.fields) lines.push(`  --${field.flag.padEnd(24)} ${field.help}`);
  for (const sw of resource.switches) lines.push(`  --${sw.on} / --${sw.off}`.padEnd(28) + ` ${sw.help}`);
  return lines.join('\n');
}

function toNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number (got ${value})`);
  return n;
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The body fields the flags set (only those given). */
function bodyFromFlags(resource: Resource, values: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of resource.fields) {
    const raw = values[field.flag];
    if (raw === undefined) continue;
    if (field.type === 'list') body[field.field] = raw as string[];
    else if (field.type === 'number') body[field.field] = toNumber(field.flag, raw as string);
    else if (field.type === 'json') body[field.field] = parseJson(field.flag, raw as string);
    else if (field.type === 'nullable') body[field.field] = raw === 'none' ? null : raw;
    else body[field.field] = raw;
  }
  for (const sw of resource.switches) {
    if (values[sw.on] && values[sw.off]) throw new UsageError(`--${sw.on} and --${sw.off} contradict each other`);
    if (values[sw.on]) body[sw.field] = true;
    if (values[sw.off]) body[sw.field] = false;
  }
  return body;
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

function one(positionals: string[], what: string): string {
  const [value] = positionals;
  if (!value) throw new UsageError(`Missing ${what}`);
  return value;
}

const enc = encodeURIComponent;

/** What a command prints: the API's answer as JSON with --json, else in a human form. */
function show(values: Values, data: unknown, human: () => void): void {
  if (values.json) printJson(data);
  else human();
}

async function resourceCommand(conn: Connection, resource: Resource, verb: string, positionals: string[], values: Values): Promise<void> {
  switch (verb) {
    case 'list': {
      const rows = (await call(conn, 'GET', resource.path)) as Array<Record<string, unknown>>;
      return show(values, rows, () => printTable(rows, resource.columns));
    }
    case 'get': {
      const obj = (await call(conn, 'GET', `${resource.path}/${enc(one(positionals, 'NAME'))}`)) as Record<string, unknown>;
      return show(values, obj, () => printObject(obj));
    }
    case 'create': {
      const body = bodyFromFlags(resource, values);
      if (resource === SECURITY_RESOURCE && values['password-stdin']) body.password = readStdin().replace(/\r?\n$/, '');
      const created = (await call(conn, 'POST', resource.path, body)) as Record<string, unknown>;
      return show(values, created, () => console.log(`Created ${resource.noun} ${String(created.name)}`));
    }
    case 'update': {
      const name = one(positionals, 'NAME');
      const current = configOf((await call(conn, 'GET', `${resource.path}/${enc(name)}`)) as Record<string, unknown>);
      const changes = bodyFromFlags(resource, values);
      if (typeof values.rename === 'string') changes.name = values.rename;
      if (Object.keys(changes).length === 0) throw new UsageError('Nothing to change: give at least one flag');
      if (resource === SECURITY_RESOURCE) delete current.password;
      const updated = (await call(conn, 'PUT', `${resource.path}/${enc(name)}`, { ...current, ...changes })) as Record<string, unknown>;
      return show(values, updated, () => console.log(`Updated ${resource.noun} ${String(updated.name)}`));
    }
    case 'delete': {
      const name = one(positionals, 'NAME');
      const deleted = await call(conn, 'DELETE', `${resource.path}/${enc(name)}`);
      return show(values, deleted, () => console.log(`Deleted ${resource.noun} ${name}`));
    }
  }
  const extra = EXTRA_VERBS[resource.noun]?.[verb];
  if (!extra) throw new UsageError(`Unknown command: ${resource.noun} ${verb}`);
  return extra(conn, positionals, values);
}

const SECURITY_RESOURCE = RESOURCES.find((r) => r.noun === 'security')!;

type Verb = (conn: Connection, positionals: string[], values: Values) => Promise<void>;

function requestFrom(values: Values): unknown {
  if (typeof values['request-file'] === 'string') return parseJson('request-file', readFileSync(values['request-file'], 'utf8'));
  if (values.request === '-') return parseJson('request', readStdin());
  if (typeof values.request === 'string') return parseJson('request', values.request);
  return undefined;
}

const EXTRA_VERBS: Record<string, Record<string, Verb>> = {
  channel: {
    async clients(conn, positionals, values) {
      const rows = (await call(conn, 'GET', `${CHANNEL.path}/${enc(one(positionals, 'NAME'))}/clients`)) as Array<Record<string, unknown>>;
      show(values, rows, () => printTable(rows, ['pubClientId', 'extClientId', 'extClientName', 'peerAddress', 'connectedAt', 'lastSeen']));
    },
    async disconnect(conn, positionals, values) {
      const [name, id] = [one(positionals, 'NAME'), one(positionals.slice(1), 'PUB_CLIENT_ID')];
      const res = await call(conn, 'DELETE', `${CHANNEL.path}/${enc(name)}/clients/${enc(id)}`);
      show(values, res, () => console.log(`Disconnected ${id}`));
    },
    async 'invoke-client'(conn, positionals, values) {
      const [name, id] = [one(positionals, 'NAME'), one(positionals.slice(1), 'PUB_CLIENT_ID')];
      const timeout = typeof values.timeout === 'string' ? toNumber('timeout', values.timeout) : undefined;
      const res = (await call(conn, 'POST', `${CHANNEL.path}/${enc(name)}/clients/${enc(id)}/invoke`, {
        request: requestFrom(values),
        ...(timeout === undefined ? {} : { timeout }),
      })) as { response: unknown };
      show(values, res, () => printJson(res.response));
    },
  },
  topic: {
    async publish(conn, positionals, values) {
      const name = one(positionals, 'NAME');
      if (typeof values.data !== 'string') throw new UsageError('--data JSON is required');
      const body: Record<string, unknown> = { data: parseJson('data', values.data) };
      if (typeof values.priority === 'string') body.priority = toNumber('priority', values.priority);
      if (typeof values.expiration === 'string') body.expiration = toNumber('expiration', values.expiration);
      if (values.gd) body.hasGd = true;
      if (values['no-gd']) body.hasGd = false;
      const res = (await call(conn, 'POST', `/api/pubsub/topics/${enc(name)}/publish`, body)) as { msg_id: string };
      show(values, res, () => console.log(res.msg_id));
    },
    async messages(conn, positionals, values) {
      const q = new URLSearchParams();
      if (typeof values.after === 'string') q.set('after', values.after);
      if (typeof values.limit === 'string') q.set('limit', values.limit);
      const rows = (await call(conn, 'GET', `/api/pubsub/topics/${enc(one(positionals, 'NAME'))}/messages?${q}`)) as Array<Record<string, unknown>>;
      show(values, rows, () => printTable(rows, ['seq', 'msg_id', 'priority', 'pub_time_iso', 'data']));
    },
  },
};

async function serviceCommand(conn: Connection, verb: string, positionals: string[], values: Values): Promise<void> {
  if (verb === 'list') {
    const rows = (await call(conn, 'GET', '/api/services')) as Array<Record<string, unknown>>;
    return show(values, rows, () => printTable(rows, ['name', 'source', 'deployedAt']));
  }
  if (verb === 'get') {
    const obj = (await call(conn, 'GET', `/api/services/${enc(one(positionals, 'NAME'))}`)) as Record<string, unknown>;
    return show(values, obj, () => printObject(obj));
  }
  if (verb === 'deployments') {
    const rows = (await call(conn, 'GET', '/api/services/deployments')) as Array<Record<string, unknown>>;
    return show(values, rows, () => printTable(rows, ['file', 'ok', 'services', 'error', 'at']));
  }
  if (verb === 'invoke') {
    const name = one(positionals, 'NAME');
    const res = (await call(conn, 'POST', `/api/services/${enc(name)}/invoke`, { request: requestFrom(values) })) as { response: unknown };
    return show(values, res, () => console.log(JSON.stringify(res.response)));
  }
  throw new UsageError(`Unknown command: service ${verb}`);
}

async function subscriptionCommand(conn: Connection, verb: string, positionals: string[], values: Values): Promise<void> {
  const path = '/api/pubsub/subscriptions';
  if (verb === 'list') {
    const rows = (await call(conn, 'GET', path)) as Array<Record<string, unknown>>;
    return show(values, rows, () => printTable(rows, ['subKey', 'topicName', 'channelName', 'pubClientId', 'queueDepth', 'ackMode']));
  }
  const subKey = one(positionals, 'SUB_KEY');
  if (verb === 'get') {
    const obj = (await call(conn, 'GET', `${path}/${enc(subKey)}`)) as Record<string, unknown>;
    return show(values, obj, () => printObject(obj));
  }
  if (verb === 'delete') {
    const res = await call(conn, 'DELETE', `${path}/${enc(subKey)}`);
    return show(values, res, () => console.log(`Deleted subscription ${subKey}`));
  }
  throw new UsageError(`Unknown command: subscription ${verb}`);
}

const EXTRA_OPTIONS: Options = {
  rename: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  request: { type: 'string' },
  'request-file': { type: 'string' },
  timeout: { type: 'string' },
  data: { type: 'string' },
  priority: { type: 'string' },
  expiration: { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
};

const APPLY_HELP = `switchboard apply -f FILE — create and update objects to match FILE ("-" reads stdin)

FILE is JSON: { "security": [...], "channels": [...], "outgoing": [...], "topics": [...] }, each entry the body
the admin API's POST/PUT takes. Fields an entry leaves out keep their current values. Nothing is deleted
unless --prune is given. See docs/cli.md.

  --prune           delete objects of the kinds FILE lists that FILE does not name
  --dry-run         report what would change, write nothing
  --verbose         also print the objects that are unchanged
  --force-secrets   send the passwords/secrets FILE gives for existing security definitions
  --json            print { created, updated, deleted, unchanged }`;

const EXPORT_HELP = `switchboard export [-o FILE] — the server's config (no live state, no secrets) in the format apply takes`;

const CONFIG_OPTIONS: Record<'apply' | 'export', Options> = {
  apply: {
    file: { type: 'string', short: 'f' },
    prune: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'force-secrets': { type: 'boolean' },
  },
  export: { output: { type: 'string', short: 'o' } },
};

function parse(args: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function connectionOf(values: Values): Connection {
  return resolveConnection({ url: values.url as string | undefined, token: values.token as string | undefined });
}

/** `apply` and `export` are verbs without a noun: they work on every kind of object at once. */
async function configCommand(command: 'apply' | 'export', args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...GLOBAL, ...CONFIG_OPTIONS[command] });
  if (values.help) return console.log(command === 'apply' ? APPLY_HELP : EXPORT_HELP);
  if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals[0]}`);
  if (command === 'export') return runExport(connectionOf(values), values.output as string | undefined);
  if (typeof values.file !== 'string') throw new UsageError('apply needs -f FILE (or -f - to read stdin)');
  await runApply(connectionOf(values), {
    file: values.file,
    prune: values.prune === true,
    dryRun: values['dry-run'] === true,
    verbose: values.verbose === true,
    forceSecrets: values['force-secrets'] === true,
    json: values.json === true,
  });
}

/** `switchboard stats`: the totals the web admin's dashboard shows (per-object lists with --json). */
async function statsCommand(args: string[]): Promise<void> {
  const { values } = parse(args, GLOBAL);
  const stats = (await call(connectionOf(values), 'GET', '/api/stats')) as Record<string, unknown>;
  show(values, stats, () => printObject(Object.fromEntries(Object.entries(stats).filter(([, v]) => !Array.isArray(v)))));
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (!noun || noun === '--help' || noun === '-h' || noun === 'help') {
    console.log(USAGE);
    return noun ? 0 : 2;
  }
  if (noun === '--version' || noun === '-v') {
    console.log(VERSION);
    return 0;
  }
  const resource = RESOURCES.find((r) => r.noun === noun);
  try {
    if (noun === 'apply' || noun === 'export') {
      await configCommand(noun, argv.slice(1));
      return 0;
    }
    if (noun === 'stats') {
      await statsCommand(argv.slice(1));
      return 0;
    }
    if (!resource && noun !== 'service' && noun !== 'subscription') throw new UsageError(`Unknown noun: ${noun}`);
    if (!verb || verb === '--help' || verb === '-h') {
      console.log(resource ? resourceHelp(resource) : USAGE);
      return verb ? 0 : 2;
    }
    const options: Options = { ...GLOBAL, ...EXTRA_OPTIONS, ...(resource ? resourceOptions(resource) : {}) };
    if (resource?.noun === 'topic') Object.assign(options, { gd: { type: 'boolean' }, 'no-gd': { type: 'boolean' } });
    const parsed = parse(rest, options);
    const conn = connectionOf(parsed.values);
    if (noun === 'service') await serviceCommand(conn, verb, parsed.positionals, parsed.values);
    else if (noun === 'subscription') await subscriptionCommand(conn, verb, parsed.positionals, parsed.values);
    else await resourceCommand(conn, resource!, verb, parsed.positionals, parsed.values);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    // The command line was fine but the file is not: the usage text would not help.
    if (err instanceof ConfigFileError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof ApiError) {
      console.error(`error: ${err.message} [${err.code}]${err.field ? ` (field: ${err.field})` : ''}`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}
