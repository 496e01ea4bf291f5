import { SwitchboardError, ValidationError } from '../errors/index.js';
import { ConfigRepository, type Store } from '../store/index.js';
import { hashSecret, verifySecret } from './password.js';
import { SecretKeyMismatchError, type SecretBox } from './secret-box.js';
import type { SecurityInput, SecurityType, SecurityView } from './config.js';

/**
 * A stored definition: the secret as a scrypt hash (to check what clients present) and, encrypted, for
 * sending to remotes from outgoing connections. Neither ever leaves through the API.
 */
export interface StoredSecurityDefinition {
  name: string;
  type: SecurityType;
  username?: string;
  /** Pub/sub permissions of the clients logged in with it (docs/security.md); absent or empty: none. */
  topicPatterns?: string[];
  secretHash: string;
  secretSealed?: string;
}

/** Credentials a client presented. */
export interface Credentials {
  readonly username: string | undefined;
  readonly secret: string | undefined;
}

/** Security definitions: stored with hashed secrets, checked at `create-session`. */
export class SecurityDefinitions {
  readonly repo: ConfigRepository<StoredSecurityDefinition>;
  readonly #box: SecretBox | undefined;

  constructor(store: Store, box?: SecretBox) {
    this.repo = new ConfigRepository<StoredSecurityDefinition>(store, 'security');
    this.#box = box;
  }

  /** The public view of a stored definition. */
  static view(def: StoredSecurityDefinition): SecurityView {
    return {
      name: def.name,
      type: def.type,
      ...(def.username !== undefined && { username: def.username }),
      ...((def.topicPatterns?.length ?? 0) > 0 && { topicPatterns: def.topicPatterns }),
    };
  }

  /** The pub/sub patterns of a definition ([] when it has none or does not exist). */
  async topicPatterns(name: string): Promise<string[]> {
    return (await this.repo.get(name))?.topicPatterns ?? [];
  }

  async list(): Promise<SecurityView[]> {
    return (await this.repo.list()).map(SecurityDefinitions.view);
  }

  async get(name: string): Promise<SecurityView> {
    return SecurityDefinitions.view(await this.repo.require(name));
  }

  async create(input: SecurityInput): Promise<SecurityView> {
    const secret = input.password ?? input.secret;
    if (!secret) throw new ValidationError('invalid_input', 'A password (or secret) is required', { field: 'password' });
    return SecurityDefinitions.view(await this.repo.create(await this.#toStored(input, secret)));
  }

  /** Replaces a definition; without a new password the old secret is kept. */
  async update(name: string, input: SecurityInput): Promise<SecurityView> {
    const existing = await this.repo.require(name);
    const secret = input.password ?? input.secret;
    const stored = secret ? await this.#toStored(input, secret) : { ...this.#checked(input), ...keptSecret(existing) };
    return SecurityDefinitions.view(await this.repo.update(name, stored));
  }

  async delete(name: string): Promise<SecurityView> {
    return SecurityDefinitions.view(await this.repo.delete(name));
  }

  /** True when the credentials match the named definition; false when they don't or it doesn't exist. */
  async verify(name: string, credentials: Credentials): Promise<boolean> {
    const def = await this.repo.get(name);
    if (!def || !credentials.secret) return false;
    if (def.type === 'basic_auth' && credentials.username !== def.username) {
      // Still spend the hashing time, so a wrong username is not faster to detect than a wrong password.
      await verifySecret(credentials.secret, def.secretHash);
      return false;
    }
    return verifySecret(credentials.secret, def.secretHash);
  }

  /** The username and secret in clear, for an outgoing connection to send to its remote. */
  async reveal(name: string): Promise<{ username: string | undefined; secret: string }> {
    const def = await this.repo.require(name);
    if (!def.secretSealed || !this.#box) {
      throw new SwitchboardError('secret_unavailable', `The secret of ${name} cannot be read back; set its password again`);
    }
    try {
      return { username: def.username, secret: this.#box.decrypt(def.secretSealed) };
    } catch (err) {
      if (!(err instanceof SecretKeyMismatchError)) throw err;
      throw new SecretKeyMismatchError(
        'secret_key_mismatch',
        `The secret of ${name} was encrypted under another key than the one from ${this.#box.source}: restore that key, or set the password of ${name} again`,
      );
    }
  }

  /** Names of the definitions whose stored secret the current key cannot decrypt (checked at start-up). */
  async unreadableSecrets(): Promise<string[]> {
    const box = this.#box;
    if (!box) return [];
    const unreadable: string[] = [];
    for (const def of await this.repo.list()) {
      if (!def.secretSealed) continue;
      try {
        box.decrypt(def.secretSealed);
      } catch {
        unreadable.push(def.name);
      }
    }
    return unreadable;
  }

  #checked(input: SecurityInput): Omit<StoredSecurityDefinition, 'secretHash'> {
    if (input.type === 'basic_auth' && !input.username)
      throw new ValidationError('invalid_input', 'basic_auth needs a username', { field: 'username' });
    return {
      name: input.name,
      type: input.type,
      ...(input.username !== undefined && { username: input.username }),
      ...((input.topicPatterns?.length ?? 0) > 0 && { topicPatterns: input.topicPatterns }),
    };
  }

  async #toStored(input: SecurityInput, secret: string): Promise<StoredSecurityDefinition> {
    const stored: StoredSecurityDefinition = { ...this.#checked(input), secretHash: await hashSecret(secret) };
    if (this.#box) stored.secretSealed = this.#box.encrypt(secret);
    return stored;
  }
}

function keptSecret(def: StoredSecurityDefinition): Pick<StoredSecurityDefinition, 'secretHash' | 'secretSealed'> {
  return def.secretSealed === undefined
    ? { secretHash: def.secretHash }
    : { secretHash: def.secretHash, secretSealed: def.secretSealed };
}
