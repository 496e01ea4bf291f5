/** One server of the cluster as `GET /api/cluster` and the web admin's Cluster page show it. */
export interface ClusterMember {
  /** `serverName` (SWITCHBOARD_SERVER_NAME; default the host name, ':' and the admin port). */
  readonly name: string;
  /** This incarnation's id (`srv.<16 hex>`), new at every start and after a fencing. */
  readonly serverId: string;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** Milliseconds since its last heartbeat, by the database's clock (0 on a standalone server). */
  readonly heartbeatAgeMs: number;
  /** WebSocket clients connected to it, as of its last heartbeat. */
  readonly clients: number;
  /** True for the one server doing the cluster's housekeeping (reaping dead servers, expiry). */
  readonly housekeeping: boolean;
  /** True for the server that answered. */
  readonly self: boolean;
}

/** The cluster as one server sees it. */
export interface ClusterDescription {
  /** False on SQLite: one server, no membership table. */
  readonly clustered: boolean;
  readonly database: 'sqlite' | 'postgres';
  /** The name of the server that answered. */
  readonly self: string;
  /** The name of the housekeeping server, or null while none holds the role. */
  readonly housekeeper: string | null;
  /** How often each server heartbeats, and after how long without one it is reaped (milliseconds). */
  readonly heartbeatMs: number;
  readonly expiryMs: number;
  /** Live servers, by name. */
  readonly servers: ClusterMember[];
}

/** What the admin API asks the cluster part. */
export interface ClusterView {
  describe(): Promise<ClusterDescription>;
}
