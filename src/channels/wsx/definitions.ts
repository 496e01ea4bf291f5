import { ConflictError, ValidationError } from '../../errors/index.js';
import { ConfigRepository, type Store } from '../../store/index.js';
import type { SecurityDefinitions } from '../../security/index.js';
import {
  channelTlsFiles,
  normalizeChannel,
  parseAddress,
  withChannelDefaults,
  type ChannelConfig,
  type ChannelInput,
  type ListenAddress,
} from './config.js';
import { loadTlsPair, sameTlsFiles } from './tls-files.js';

/** Channel configuration in the store, validated: unique names and addresses, existing security definitions. */
export class ChannelDefinitions {
  readonly repo: ConfigRepository<ChannelConfig>;
  readonly #security: SecurityDefinitions;

  constructor(store: Store, security: SecurityDefinitions) {
    this.repo = new ConfigRepository<ChannelConfig>(store, 'channel');
    this.#security = security;
  }

  async list(): Promise<ChannelConfig[]> {
    return (await this.repo.list()).map(withChannelDefaults);
  }

  async get(name: string): Promise<ChannelConfig> {
    return withChannelDefaults(await this.repo.require(name));
  }

  async create(input: ChannelInput): Promise<ChannelConfig> {
    const config = await this.#validate(input, undefined);
    return this.repo.create(config);
  }

  async update(name: string, input: ChannelInput): Promise<ChannelConfig> {
    await this.repo.require(name);
    const config = await this.#validate(input, name);
    return this.repo.update(name, config);
  }

  delete(name: string): Promise<ChannelConfig> {
    return this.repo.delete(name);
  }

  /** Names of channels that use a security definition. */
  async usingSecurity(securityName: string): Promise<string[]> {
    return (await this.repo.list()).filter((c) => c.security === securityName).map((c) => c.name);
  }

  async #validate(input: ChannelInput, currentName: string | undefined): Promise<ChannelConfig> {
    const config = normalizeChannel(input);
    if (config.security && !(await this.#security.repo.get(config.security))) {
      throw new ValidationError('invalid_input', `No security definition named ${config.security}`, { field: 'security' });
    }
    const address = parseAddress(config.address);
    const tls = channelTlsFiles(config);
    // Read now, so that a missing file or a key of another certificate is a 400 here, not a failure to listen.
    if (tls) loadTlsPair(tls);
    for (const other of await this.repo.list()) {
      if (other.name === currentName) continue;
      const theirs = parseAddress(other.address);
      if (theirs.port !== address.port || !sameHost(theirs.host, address.host)) continue;
      if (theirs.path === address.path) {
        throw new ConflictError('address_in_use', `Channel ${other.name} already listens at ${other.address}`, {
          field: 'address',
        });
      }
      checkSamePortTls(config, address, withChannelDefaults(other), theirs);
    }
    return config;
  }
}

// Channels on one port share one listener: one scheme, one certificate.
function checkSamePortTls(config: ChannelConfig, address: ListenAddress, other: ChannelConfig, theirs: ListenAddress): void {
  if (theirs.tls !== address.tls) {
    throw new ConflictError(
      'tls_mismatch',
      `Channel ${other.name} listens on port ${theirs.port} with ${theirs.tls ? 'wss' : 'ws'}://; channels sharing a port use one scheme`,
      { field: 'address' },
    );
  }
  if (!sameTlsFiles(channelTlsFiles(config), channelTlsFiles(other))) {
    throw new ConflictError(
      'tls_mismatch',
      `Channel ${other.name} listens on port ${theirs.port} with tlsCertFile ${other.tlsCertFile} and tlsKeyFile ` +
        `${other.tlsKeyFile}; channels sharing a port use the same files`,
      { field: config.tlsCertFile === other.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile' },
    );
  }
}

function sameHost(a: string, b: string): boolean {
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  return a === b || wildcard(a) || wildcard(b);
}
