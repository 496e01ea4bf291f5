import { ValidationError } from '../../errors/index.js';
import { ConfigRepository, type Store } from '../../store/index.js';
import type { SecurityDefinitions } from '../../security/index.js';
import { readCaFile } from './remote-tls.js';
import { normalizeOutgoing, type OutgoingConfig, type OutgoingInput } from './config.js';

/** Outgoing connection configuration in the store, validated. */
export class OutgoingDefinitions {
  readonly repo: ConfigRepository<OutgoingConfig>;
  readonly #security: SecurityDefinitions;

  constructor(store: Store, security: SecurityDefinitions) {
    this.repo = new ConfigRepository<OutgoingConfig>(store, 'outgoing');
    this.#security = security;
  }

  list(): Promise<OutgoingConfig[]> {
    return this.repo.list();
  }

  get(name: string): Promise<OutgoingConfig> {
    return this.repo.require(name);
  }

  async create(input: OutgoingInput): Promise<OutgoingConfig> {
    return this.repo.create(await this.#validate(input));
  }

  async update(name: string, input: OutgoingInput): Promise<OutgoingConfig> {
    await this.repo.require(name);
    return this.repo.update(name, await this.#validate(input));
  }

  delete(name: string): Promise<OutgoingConfig> {
    return this.repo.delete(name);
  }

  /** Names of outgoing connections that use a security definition. */
  async usingSecurity(securityName: string): Promise<string[]> {
    return (await this.repo.list()).filter((c) => c.security === securityName).map((c) => c.name);
  }

  async #validate(input: OutgoingInput): Promise<OutgoingConfig> {
    const config = normalizeOutgoing(input);
    // Read now, so that a wrong path is a 400 here, not a reconnect loop.
    if (config.tlsCaFile) readCaFile(config.tlsCaFile);
    if (!config.security) return config;
    const security = await this.#security.repo.get(config.security);
    if (!security) {
      throw new ValidationError('invalid_input', `No security definition named ${config.security}`, { field: 'security' });
    }
    // A jwt definition holds what verifies tokens, not a token to send: refused here rather than at every reconnect.
    if (security.type === 'jwt') {
      throw new ValidationError(
        'invalid_input',
        `${config.security} is a jwt definition: it verifies tokens clients send and has none to send; use basic_auth or apikey`,
        { field: 'security' },
      );
    }
    return config;
  }
}
