import { SwitchboardError, ValidationError } from '../errors/index.js';
import { ConfigRepository, type Store } from '../store/index.js';
import { hashSecret, verifySecret } from './password.js';
import { SecretKeyMismatchError, type SecretBox } from './secret-box.js';
import { checkTopicPatterns, type SecurityInput, type SecurityType, type SecurityView } from './config.js';
import { JwtVerifier, checkJwtInput, type AuthResult, type JwtSettings } from './jwt.js';

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
  /** basic_auth, apikey: what clients present is checked against this. */
  secretHash?: string;
  /** The secret encrypted by the SecretBox (jwt: the HMAC key, which verification needs in clear). */
  secretSealed?: string;
  /** jwt: everything but the HMAC key. */
  jwt?: JwtSettings;
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
  // One verifier per jwt definition, rebuilt when the stored definition changes (each has its own JWKS cache).
  readonly #verifiers = new Map<string, { stamp: string; verifier: JwtVerifier }>();

  constructor(store: Store, box?: SecretBox) {
    this.repo = new ConfigRepository<StoredSecurityDefinition>(store, 'security');
    this.#box = box;
  }

  /** The public view of a stored definition. */
  static view(def: StoredSecurityDefinition): SecurityView {
    const base = def.jwt
      ? jwtView(def, def.jwt)
      : { name: def.name, type: def.type, ...(def.username !== undefined && { username: def.username }) };
    return (def.topicPatterns?.length ?? 0) > 0 ? { ...base, topicPatterns: def.topicPatterns } : base;
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
    checkTopicPatterns(input.topicPatterns);
    if (input.type === 'jwt') return SecurityDefinitions.view(await this.repo.create(this.#jwtStored(input, undefined)));
    const secret = input.password ?? input.secret;
    if (!secret) throw new ValidationError('invalid_input', 'A password (or secret) is required', { field: 'password' });
    return SecurityDefinitions.view(await this.repo.create(await this.#toStored(input, secret)));
  }

  /** Replaces a definition; without a new password the old secret is kept. */
  async update(name: string, input: SecurityInput): Promise<SecurityView> {
    const existing = await this.repo.require(name);
    checkTopicPatterns(input.topicPatterns);
    if (input.type === 'jwt') return SecurityDefinitions.view(await this.repo.update(name, this.#jwtStored(input, existing)));
    const secret = input.password ?? input.secret;
    const stored = secret ? await this.#toStored(input, secret) : { ...this.#checked(input), ...keptSecret(existing) };
    return SecurityDefinitions.view(await this.repo.update(name, stored));
  }

  async delete(name: string): Promise<SecurityView> {
    return SecurityDefinitions.view(await this.repo.delete(name));
  }

  /** True when the credentials match the named definition; false when they don't or it doesn't exist. */
  async verify(name: string, credentials: Credentials): Promise<boolean> {
    return (await this.authenticate(name, credentials)).ok;
  }

  /**
   * Checks credentials against the named definition. jwt: `secret` is the token, and the result has its claims
   * and expiry; the reason of a refusal is for the debug log only. Never throws for bad credentials.
   */
  async authenticate(name: string, credentials: Credentials): Promise<AuthResult> {
    const def = await this.repo.get(name);
    if (!def) return { ok: false, reason: `no security definition ${name}` };
    if (!credentials.secret) return { ok: false, reason: 'no credentials' };
    if (def.jwt) {
      let verifier: JwtVerifier;
      try {
        verifier = this.#verifierOf(def, def.jwt);
      } catch (err) {
        return { ok: false, reason: `the definition's key cannot be used: ${(err as Error).message}` };
      }
      return verifier.verify(credentials.secret);
    }
    return (await this.#checkSecret(def, credentials.secret, credentials.username))
      ? { ok: true }
      : { ok: false, reason: 'wrong credentials' };
  }

  async #checkSecret(def: StoredSecurityDefinition, secret: string, username: string | undefined): Promise<boolean> {
    if (!def.secretHash) return false;
    const credentials = { secret, username };
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
    if (!def.secretSealed || !this.#box || def.jwt) {
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

  #verifierOf(def: StoredSecurityDefinition, settings: JwtSettings): JwtVerifier {
    const stamp = JSON.stringify(def);
    const cached = this.#verifiers.get(def.name);
    if (cached?.stamp === stamp) return cached.verifier;
    const secret = def.secretSealed && this.#box ? this.#box.decrypt(def.secretSealed) : undefined;
    const verifier = new JwtVerifier(settings, secret);
    this.#verifiers.set(def.name, { stamp, verifier });
    return verifier;
  }

  // A jwt definition: the HMAC key sealed (it must be read back to verify), the rest as given. Without a new key
  // an update keeps the one stored, as a password is kept.
  #jwtStored(input: SecurityInput, existing: StoredSecurityDefinition | undefined): StoredSecurityDefinition {
    if (input.username !== undefined)
      throw new ValidationError('invalid_input', 'A jwt definition has no username', { field: 'username' });
    // Refused rather than ignored: a key sent as `password` would otherwise leave the definition keyless or stale.
    if (input.password !== undefined)
      throw new ValidationError('invalid_input', 'A jwt definition takes its HMAC key as secret, not password', {
        field: 'password',
      });
    const newKey = input.secret !== undefined || input.publicKey !== undefined || input.jwksUrl !== undefined;
    const kept = !newKey && existing?.jwt ? existing : undefined;
    let secret = input.secret;
    if (kept?.secretSealed && this.#box) secret = this.#box.decrypt(kept.secretSealed);
    const keyFields = kept?.jwt ? { publicKey: kept.jwt.publicKey, jwksUrl: kept.jwt.jwksUrl } : {};
    const settings = checkJwtInput({ ...keyFields, ...input }, secret);
    const stored: StoredSecurityDefinition = { name: input.name, type: 'jwt', jwt: settings };
    if ((input.topicPatterns?.length ?? 0) > 0) stored.topicPatterns = input.topicPatterns!;
    if (secret !== undefined) {
      if (!this.#box)
        throw new ValidationError('invalid_input', 'An HMAC secret needs the server secret key to be stored', {
          field: 'secret',
        });
      stored.secretSealed = kept?.secretSealed ?? this.#box.encrypt(secret);
    }
    return stored;
  }

  #checked(input: SecurityInput): Omit<StoredSecurityDefinition, 'secretHash'> {
    const jwtField = (['publicKey', 'jwksUrl', 'issuer', 'audience', 'algorithms', 'clockTolerance'] as const).find(
      (f) => input[f] !== undefined,
    );
    if (jwtField) throw new ValidationError('invalid_input', `${jwtField} is for jwt definitions only`, { field: jwtField });
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
  if (def.secretHash === undefined)
    throw new ValidationError('invalid_input', 'A password (or secret) is required', { field: 'password' });
  return def.secretSealed === undefined
    ? { secretHash: def.secretHash }
    : { secretHash: def.secretHash, secretSealed: def.secretSealed };
}

// What the API shows of a jwt definition: which kind of key, never the HMAC key itself.
function jwtView(def: StoredSecurityDefinition, jwt: JwtSettings): SecurityView {
  const keyKind = jwt.publicKey !== undefined ? 'publicKey' : jwt.jwksUrl !== undefined ? 'jwksUrl' : 'secret';
  const { publicKey, jwksUrl, issuer, audience } = jwt;
  return {
    name: def.name,
    type: def.type,
    keyKind,
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(jwksUrl !== undefined ? { jwksUrl } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    algorithms: jwt.algorithms,
    clockTolerance: jwt.clockTolerance,
  };
}
