import { ConfigFileError } from './apply.js';
import { AdminApiError } from './admin-api-client.js';
import { connectionOf, GLOBAL, parse } from './command-line.js';
import { clusterCommand, configCommand, serviceCommand, statsCommand, subscriptionCommand } from './other-commands.js';
import { EXTRA_OPTIONS, resourceCommand } from './resource-command.js';
import { resourceHelp, resourceOptions, type Options } from './resource-flags.js';
import { RESOURCES } from './resources.js';
import { USAGE } from './usage.js';
import { UsageError } from './usage-error.js';

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (!noun || noun === '--help' || noun === '-h' || noun === 'help') {
    console.log(USAGE);
    return noun ? 0 : 2;
  }
  if (noun === '--version' || noun === '-v') {
    // Loaded here, not at the top: the server's index pulls in the whole server (~0.35 s), which no other command needs.
    const { VERSION } = await import('../server/index.js');
    console.log(VERSION);
    return 0;
  }
  try {
    return await run(noun, verb, rest, argv.slice(1));
  } catch (err) {
    return reportError(err);
  }
}

async function run(noun: string, verb: string | undefined, rest: string[], args: string[]): Promise<number> {
  if (noun === 'apply' || noun === 'export') {
    await configCommand(noun, args);
    return 0;
  }
  if (noun === 'stats') {
    await statsCommand(args);
    return 0;
  }
  if (noun === 'cluster') {
    await clusterCommand(args);
    return 0;
  }
  const resource = RESOURCES.find((r) => r.noun === noun);
  if (!resource && noun !== 'service' && noun !== 'subscription') throw new UsageError(`Unknown noun: ${noun}`);
  if (!verb || verb === '--help' || verb === '-h') {
    console.log(resource ? resourceHelp(resource) : USAGE);
    return verb ? 0 : 2;
  }
  const options: Options = { ...GLOBAL, ...EXTRA_OPTIONS, ...(resource ? resourceOptions(resource) : {}) };
  const parsed = parse(rest, options);
  const conn = connectionOf(parsed.values);
  if (noun === 'service') await serviceCommand(conn, verb, parsed.positionals, parsed.values);
  else if (noun === 'subscription') await subscriptionCommand(conn, verb, parsed.positionals, parsed.values);
  else await resourceCommand(conn, resource!, verb, parsed.positionals, parsed.values);
  return 0;
}

function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  // The command line was fine but the file is not: the usage text would not help.
  if (err instanceof ConfigFileError) {
    console.error(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof AdminApiError) {
    console.error(`error: ${err.message} [${err.code}]${err.field ? ` (field: ${err.field})` : ''}`);
    return 1;
  }
  console.error(`error: ${(err as Error).message}`);
  return 1;
}
