import { hostname } from 'node:os';
import type { ClusterView } from './view.js';

/** What a standalone server knows about itself for {@link standaloneCluster}. */
export interface StandaloneClusterOptions {
  /** A function, as the default name is known only once the admin listens. */
  readonly name: () => string;
  readonly version: string;
  /** WebSocket clients connected now. */
  readonly clients: () => number;
  readonly startedAt: Date;
  readonly serverId: string;
  readonly heartbeatMs: number;
  readonly expiryMs: number;
}

/**
 * The cluster of a server without membership (SQLite): itself alone, always housekeeper. Read live, so the client
 * count is the current one rather than a heartbeat's.
 */
export function standaloneCluster(options: StandaloneClusterOptions): ClusterView {
  const host = hostname();
  const startedAt = options.startedAt.toISOString();
  return {
    describe: async () => {
      const name = options.name();
      return {
        clustered: false,
        database: 'sqlite',
        self: name,
        housekeeper: name,
        heartbeatMs: options.heartbeatMs,
        expiryMs: options.expiryMs,
        servers: [
          {
            name,
            serverId: options.serverId,
            host,
            pid: process.pid,
            version: options.version,
            startedAt,
            heartbeatAgeMs: 0,
            clients: options.clients(),
            housekeeping: true,
            self: true,
          },
        ],
      };
    },
  };
}
