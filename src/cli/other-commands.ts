// The commands that are not one resource: service, subscription, stats, cluster, and apply/export.
import { writeFileSync } from 'node:fs';
import { runApply, runExport } from './apply.js';
import { callAdminApi, type AdminApiConnection } from './admin-api-client.js';
import { connectionOf, enc, GLOBAL, one, parse, requestFrom, show } from './command-line.js';
import { printObject, printTable } from './output.js';
import type { Options, Values } from './resource-flags.js';
import { APPLY_HELP, EXPORT_HELP } from './usage.js';
import { UsageError } from './usage-error.js';

/** `switchboard service list | get | deployments | invoke`. */
export async function serviceCommand(
  conn: AdminApiConnection,
  verb: string,
  positionals: string[],
  values: Values,
): Promise<void> {
  if (verb === 'list') {
    const rows = (await callAdminApi(conn, 'GET', '/api/services')) as Array<Record<string, unknown>>;
    return show(values, rows, () => printTable(rows, ['name', 'source', 'deployedAt']));
  }
  if (verb === 'get') {
    const obj = (await callAdminApi(conn, 'GET', `/api/services/${enc(one(positionals, 'NAME'))}`)) as Record<string, unknown>;
    return show(values, obj, () => printObject(obj));
  }
  if (verb === 'deployments') {
    const rows = (await callAdminApi(conn, 'GET', '/api/services/deployments')) as Array<Record<string, unknown>>;
    return show(values, rows, () => printTable(rows, ['file', 'ok', 'services', 'error', 'at']));
  }
  if (verb === 'invoke') {
    const name = one(positionals, 'NAME');
    const res = (await callAdminApi(conn, 'POST', `/api/services/${enc(name)}/invoke`, { request: requestFrom(values) })) as {
      response: unknown;
    };
    return show(values, res, () => console.log(JSON.stringify(res.response)));
  }
  throw new UsageError(`Unknown command: service ${verb}`);
}

/** `switchboard subscription list | get | delete`. */
export async function subscriptionCommand(
  conn: AdminApiConnection,
  verb: string,
  positionals: string[],
  values: Values,
): Promise<void> {
  const path = '/api/pubsub/subscriptions';
  if (verb === 'list') {
    const rows = (await callAdminApi(conn, 'GET', path)) as Array<Record<string, unknown>>;
    return show(values, rows, () =>
      printTable(rows, ['subKey', 'topicName', 'channelName', 'pubClientId', 'queueDepth', 'ackMode']),
    );
  }
  const subKey = one(positionals, 'SUB_KEY');
  if (verb === 'get') {
    const obj = (await callAdminApi(conn, 'GET', `${path}/${enc(subKey)}`)) as Record<string, unknown>;
    return show(values, obj, () => printObject(obj));
  }
  if (verb === 'delete') {
    const res = await callAdminApi(conn, 'DELETE', `${path}/${enc(subKey)}`);
    return show(values, res, () => console.log(`Deleted subscription ${subKey}`));
  }
  throw new UsageError(`Unknown command: subscription ${verb}`);
}

const CONFIG_OPTIONS: Record<'apply' | 'export', Options> = {
  apply: {
    file: { type: 'string', short: 'f' },
    prune: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'force-secrets': { type: 'boolean' },
  },
  export: { output: { type: 'string', short: 'o' }, asyncapi: { type: 'boolean' } },
};

/** `export --asyncapi`: the AsyncAPI 3.0 document of the channels, services and topics, to stdout or a file. */
async function exportAsyncApi(conn: AdminApiConnection, output: string | undefined): Promise<void> {
  const text = `${JSON.stringify(await callAdminApi(conn, 'GET', '/api/asyncapi.json'), null, 2)}\n`;
  if (output === undefined || output === '-') return void process.stdout.write(text);
  writeFileSync(output, text);
  console.log(`wrote the AsyncAPI document to ${output}`);
}

/** `apply` and `export` are verbs without a noun: they work on every kind of object at once. */
export async function configCommand(command: 'apply' | 'export', args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...GLOBAL, ...CONFIG_OPTIONS[command] });
  if (values.help) return console.log(command === 'apply' ? APPLY_HELP : EXPORT_HELP);
  if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals[0]}`);
  if (command === 'export' && values.asyncapi) return exportAsyncApi(connectionOf(values), values.output as string | undefined);
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
export async function statsCommand(args: string[]): Promise<void> {
  const { values } = parse(args, GLOBAL);
  const stats = (await callAdminApi(connectionOf(values), 'GET', '/api/stats')) as Record<string, unknown>;
  show(values, stats, () => printObject(Object.fromEntries(Object.entries(stats).filter(([, v]) => !Array.isArray(v)))));
}

const SERVER_COLUMNS = [
  'name',
  'serverId',
  'host',
  'pid',
  'version',
  'startedAt',
  'heartbeatAge',
  'clients',
  'housekeeping',
  'self',
];

/** `switchboard cluster`: the servers sharing the database, as the web admin's Cluster page shows them. */
export async function clusterCommand(args: string[]): Promise<void> {
  const { values } = parse(args, GLOBAL);
  const cluster = (await callAdminApi(connectionOf(values), 'GET', '/api/cluster')) as {
    clustered: boolean;
    database: string;
    housekeeper: string | null;
    servers: Array<Record<string, unknown>>;
  };
  show(values, cluster, () => {
    const mode = cluster.clustered ? 'clustered' : 'standalone';
    console.log(`${cluster.database}, ${mode}; housekeeping: ${cluster.housekeeper ?? '(none)'}`);
    const rows = cluster.servers.map((s) => ({ ...s, heartbeatAge: `${((s.heartbeatAgeMs as number) / 1000).toFixed(1)}s` }));
    printTable(rows, SERVER_COLUMNS);
  });
}
