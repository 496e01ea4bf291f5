/** How one command-line flag maps onto one field of an API body. */
export interface FieldFlag {
  readonly flag: string;
  readonly field: string;
  readonly type: 'string' | 'number' | 'list' | 'nullable' | 'json';
  readonly help: string;
}

/** A boolean field set by a pair of flags (`--active` / `--inactive`). */
export interface SwitchFlag {
  readonly on: string;
  readonly off: string;
  readonly field: string;
  readonly help: string;
}

/** A kind of object the admin API manages by name, with list/get/create/update/delete. */
export interface Resource {
  readonly noun: string;
  readonly plural: string;
  readonly path: string;
  readonly columns: readonly string[];
  readonly fields: readonly FieldFlag[];
  readonly switches: readonly SwitchFlag[];
}

const f = (flag: string, field: string, type: FieldFlag['type'], help: string): FieldFlag => ({ flag, field, type, help });
const active: SwitchFlag = { on: 'active', off: 'inactive', field: 'isActive', help: 'start or stop it' };

export const CHANNEL: Resource = {
  noun: 'channel',
  plural: 'channels',
  path: '/api/channels/wsx',
  columns: ['name', 'address', 'protocol', 'service', 'runtime.state', 'runtime.connections'],
  fields: [
    f('name', 'name', 'string', 'unique name'),
    f('address', 'address', 'string', 'ws://host:port/path'),
    f('service', 'service', 'string', 'the service invoked for each message'),
    f('protocol', 'protocol', 'string', 'zato (WSX) or plain'),
    f('data-format', 'dataFormat', 'string', 'plain channels: text or json'),
    f('security', 'security', 'nullable', 'a security definition ("none" to remove)'),
    f('new-token-wait-time', 'newTokenWaitTime', 'number', 'seconds to create a session (5)'),
    f('token-ttl', 'tokenTtl', 'number', 'session token lifetime, s (3600)'),
    f('ping-interval', 'pingInterval', 'number', 'seconds between pings, 0 = off (30)'),
    f('pings-missed-threshold', 'pingsMissedThreshold', 'number', 'missed pings before closing (2)'),
    f('max-message-size', 'maxMessageSize', 'number', 'bytes (1048576)'),
    f('max-connections', 'maxConnections', 'number', 'connections at most (256)'),
    f('max-connections-per-ip', 'maxConnectionsPerIp', 'number', 'connections at most from one IP address (64)'),
    f('max-in-flight', 'maxInFlight', 'number', 'service calls in flight per connection (100)'),
    f('invoke-timeout', 'invokeTimeout', 'number', 'seconds a service call may take (30)'),
    f('frame-timeout', 'frameTimeout', 'number', 'seconds to receive one message (10)'),
    f('allowed-origin', 'allowedOrigins', 'list', 'an allowed Origin (repeatable)'),
    f('hook-service', 'hookService', 'nullable', 'invoked on connect/disconnect ("none" to remove)'),
    f('gateway-service', 'gatewayServices', 'list', 'a service the gateway may call (repeatable)'),
  ],
  switches: [active],
};

export const OUTGOING: Resource = {
  noun: 'outgoing',
  plural: 'outgoing connections',
  path: '/api/outgoing/wsx',
  columns: ['name', 'address', 'isZato', 'runtime.state', 'runtime.connected', 'runtime.lastError'],
  fields: [
    f('name', 'name', 'string', 'unique name'),
    f('address', 'address', 'string', 'ws:// or wss:// address of the remote'),
    f('data-format', 'dataFormat', 'string', 'plain remotes: text or json'),
    f('security', 'security', 'nullable', 'a security definition for create-session ("none" to remove)'),
    f('on-connect-service', 'onConnectService', 'nullable', 'CONNECT hook'),
    f('on-message-service', 'onMessageService', 'nullable', 'MESSAGE hook'),
    f('on-close-service', 'onCloseService', 'nullable', 'CLOSE hook'),
    f('subscription', 'subscriptionList', 'list', 'a topic to subscribe to on the remote (repeatable)'),
    f('pool-size', 'poolSize', 'number', 'sockets (1)'),
    f('ping-interval', 'pingInterval', 'number', 'seconds, 0 = off (30)'),
    f('response-timeout', 'responseTimeout', 'number', 'seconds (5)'),
    f('acquire-timeout', 'acquireTimeout', 'number', 'seconds (5)'),
    f('connect-timeout', 'connectTimeout', 'number', 'seconds (10)'),
    f('reconnect', 'reconnect', 'json', 'backoff, e.g. {"initial":0.5,"factor":2,"max":30}'),
  ],
  switches: [
    active,
    { on: 'zato', off: 'not-zato', field: 'isZato', help: 'the remote speaks WSX (Switchboard or Zato)' },
    { on: 'auto-reconnect', off: 'no-auto-reconnect', field: 'hasAutoReconnect', help: 'reconnect after losing the remote' },
  ],
};

export const SECURITY: Resource = {
  noun: 'security',
  plural: 'security definitions',
  path: '/api/security',
  columns: ['name', 'type', 'username'],
  fields: [
    f('name', 'name', 'string', 'unique name'),
    f('type', 'type', 'string', 'basic_auth or apikey'),
    f('username', 'username', 'string', 'basic_auth user name'),
    f('password', 'password', 'string', 'the password or key (or --password-stdin)'),
  ],
  switches: [],
};

export const TOPIC: Resource = {
  noun: 'topic',
  plural: 'topics',
  path: '/api/pubsub/topics',
  columns: ['name', 'hasGd', 'depth.gd', 'depth.nonGd', 'depth.subscriptions', 'depth.lastPublishedAt'],
  fields: [
    f('name', 'name', 'string', 'e.g. /orders/new'),
    f('max-depth-gd', 'maxDepthGd', 'number', 'GD messages at most (10000)'),
    f('max-depth-non-gd', 'maxDepthNonGd', 'number', 'non-GD messages per subscriber at most (1000)'),
    f('limit-message-expiry', 'limitMessageExpiry', 'number', 'longest expiry, s (86400)'),
    f('on-no-subs-pub', 'onNoSubsPub', 'string', 'accept or drop'),
  ],
  switches: [active, { on: 'gd', off: 'no-gd', field: 'hasGd', help: 'guaranteed delivery by default' }],
};

export const RESOURCES: readonly Resource[] = [CHANNEL, OUTGOING, SECURITY, TOPIC];
