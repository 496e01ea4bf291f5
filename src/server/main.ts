#!/usr/bin/env node
// `npm start`: one server in the foreground until SIGINT/SIGTERM.
import { createLogger } from '../observability/index.js';
import { demoChannels } from './seed.js';
import { startServer } from './server.js';

const logger = createLogger();

// Errors that escape a service (or the server) outside any handler are logged and counted by startServer's
// process guard (services/faults.ts), which also covers servers started as a library.

/**
 * Where the admin token is. The token itself is printed only to a terminal: stdout that goes to a file, a
 * journal or a CI log would keep it where others may read it.
 */
function tokenLine(server: Awaited<ReturnType<typeof startServer>>): string {
  if (server.settings.adminToken) return 'Admin token: the one configured (adminToken / SWITCHBOARD_ADMIN_TOKEN)';
  const where = server.adminTokenGenerated
    ? `generated into ${server.adminTokenFile} (mode 0600)`
    : `in ${server.adminTokenFile}`;
  return process.stdout.isTTY ? `Admin token ${where}: ${server.adminToken}` : `Admin token ${where}`;
}

function printWelcome(server: Awaited<ReturnType<typeof startServer>>): void {
  const lines = [
    '',
    `Switchboard is running. Web admin: ${server.adminUrl}/  (log in with the admin token)`,
    `Admin API: ${server.adminUrl}/api  (OpenAPI: ${server.adminUrl}/api/openapi.json); services from ${server.settings.servicesDir}`,
    tokenLine(server),
  ];
  const demo = server.channelManager.state('demo');
  if (demo.state === 'listening') {
    const [zato, plain] = demoChannels(server.settings.demoPort);
    lines.push(
      `Try the demo: npx wscat -c ${plain?.address.replace('127.0.0.1', 'localhost')}   (type anything: it is echoed)`,
      `          or: node examples/demo-client.mjs   (a WSX session on ${zato?.address}, invoking zato.helpers.echo)`,
    );
  }
  console.log(lines.join('\n') + '\n');
}

try {
  const server = await startServer({}, logger);
  printWelcome(server);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  logger.fatal({ err }, 'Switchboard could not start');
  process.exitCode = 1;
}
