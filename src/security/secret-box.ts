import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SwitchboardError, type SwitchboardErrorOptions } from '../errors/index.js';

const PREFIX = 'aes256gcm';
const KEY_BYTES = 32;

/** The secret key setting, file or content is unusable (reported at start-up; the key itself is never printed). */
export class SecretKeyError extends SwitchboardError {
  declare readonly code: 'invalid_secret_key';
  constructor(code: 'invalid_secret_key', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** A stored secret was encrypted under another key than the one in use. */
export class SecretKeyMismatchError extends SwitchboardError {
  declare readonly code: 'secret_key_mismatch';
  constructor(code: 'secret_key_mismatch', message: string, options?: SwitchboardErrorOptions) {
    super(code, message, options);
  }
}

/** Where the key comes from, in order of precedence (see docs/outgoing.md, "The secret key"). */
export interface SecretKeySource {
  /** The key itself (`SWITCHBOARD_SECRET_KEY`): 64 hex characters, or base64 of 32 bytes. */
  readonly key?: string | undefined;
  /** A file holding the key (`SWITCHBOARD_SECRET_KEY_FILE`); it must exist. */
  readonly keyFile?: string | undefined;
  /** The file used when neither is set (`$dataDir/secret-key`), generated with a random key on first start. */
  readonly defaultFile: string;
}

/**
 * Reads a 32-byte key written as 64 hex characters or as base64 (standard or URL-safe, padding optional).
 * `where` names the setting or file in the error; the text itself is never echoed.
 */
export function parseSecretKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new SecretKeyError(
    'invalid_secret_key',
    `${where} must be a ${KEY_BYTES}-byte key: 64 hex characters or 44 base64 characters (it has ${trimmed.length} characters); ` +
      'make one with `openssl rand -hex 32`',
  );
}

/**
 * Encrypts secrets that Switchboard must be able to read back (credentials it sends to remotes), with
 * AES-256-GCM under a key kept outside the database. Secrets it only has to check are hashed instead.
 */
export class SecretBox {
  readonly #key: Buffer;
  /** Where the key came from (a setting name or a file path), for messages. */
  readonly source: string;

  constructor(key: Buffer, source = 'the secret key') {
    if (key.length !== KEY_BYTES)
      throw new SecretKeyError('invalid_secret_key', `${source} must be ${KEY_BYTES} bytes (it is ${key.length})`);
    this.#key = key;
    this.source = source;
  }

  /**
   * The key from, first match wins: `key` (`SWITCHBOARD_SECRET_KEY`), `keyFile` (`SWITCHBOARD_SECRET_KEY_FILE`,
   * which must exist), `defaultFile` (created with a random key, mode 0600, when missing). Throws
   * `SecretKeyError` naming the setting or file when the key is missing or malformed.
   */
  static load(source: SecretKeySource): SecretBox {
    if (source.key)
      return new SecretBox(parseSecretKey(source.key, 'SWITCHBOARD_SECRET_KEY (secretKey)'), 'SWITCHBOARD_SECRET_KEY');
    if (source.keyFile) {
      if (!existsSync(source.keyFile)) {
        throw new SecretKeyError(
          'invalid_secret_key',
          `The secret key file ${source.keyFile} (SWITCHBOARD_SECRET_KEY_FILE / secretKeyFile) does not exist`,
        );
      }
      return SecretBox.#read(source.keyFile);
    }
    if (existsSync(source.defaultFile)) return SecretBox.#read(source.defaultFile);
    return SecretBox.#generate(source.defaultFile);
  }

  static #read(file: string): SecretBox {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SecretKeyError('invalid_secret_key', `The secret key file ${file} cannot be read: ${(err as Error).message}`);
    }
    return new SecretBox(parseSecretKey(text, `The secret key file ${file}`), file);
  }

  static #generate(file: string): SecretBox {
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(KEY_BYTES);
    // 'wx': never overwrite a key another process wrote meanwhile; chmod because the umask may narrow but not widen.
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return new SecretBox(key, file);
  }

  /** `aes256gcm$iv$tag$ciphertext`, base64 parts. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [PREFIX, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('$');
  }

  /** Decrypts an `encrypt` result; `SecretKeyMismatchError` if it was made under another key or tampered with. */
  decrypt(sealed: string): string {
    const [prefix, iv, tag, data] = sealed.split('$');
    if (prefix !== PREFIX || !iv || !tag || data === undefined)
      throw new SwitchboardError('secret_unavailable', 'Not an encrypted secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      // GCM cannot tell a wrong key from a tampered value; a wrong key is by far the likelier.
      throw new SecretKeyMismatchError(
        'secret_key_mismatch',
        `A stored secret cannot be decrypted with the key from ${this.source}: it was encrypted under another key`,
      );
    }
  }
}
