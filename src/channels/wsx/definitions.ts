import { ConflictError, ValidationError } from '../../errors/index.js';
import { ConfigRepository, type Store } from '../../store/index.js';
import type { SecurityDefinitions } from '../../security/index.js';
import { normalizeChannel, parseAddress, withChannelDefaults, type ChannelConfig, type ChannelInput } from './config.js';

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
    for (const other of await this.repo.list()) {
      if (other.name === currentName) continue;
      const theirs = parseAddress(other.address);
      if (theirs.port === address.port && theirs.path === address.path && sameHost(theirs.host, address.host)) {
        throw new ConflictError('address_in_use', `Channel ${other.name} already listens at ${other.address}`, {
          field: 'address',
        });
      }
    }
    return config;
  }
}

function sameHost(a: string, b: string): boolean {
  const wildcard = (h: string) => h === '0.0.0.0' || h === '::';
  return a === b || wildcard(a) || wildcard(b);
}
