import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'aes256gcm';

/**
 * Encrypts secrets that Switchboard must be able to read back (credentials it sends to remotes), with
 * AES-256-GCM under a key kept outside the database. Secrets it only has to check are hashed instead.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('The secret key must be 32 bytes');
    this.#key = key;
  }

  /**
   * The key from `SWITCHBOARD_SECRET_KEY` (64 hex characters) if given, else from `file`, created with a
   * random key (mode 0600) on first use.
   */
  static fromFile(file: string, fromEnv: string | undefined = process.env.SWITCHBOARD_SECRET_KEY): SecretBox {
    if (fromEnv) {
      if (!/^[0-9a-f]{64}$/i.test(fromEnv)) throw new Error('SWITCHBOARD_SECRET_KEY must be 64 hex characters');
      return new SecretBox(Buffer.from(fromEnv, 'hex'));
    }
    if (existsSync(file)) return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 });
    return new SecretBox(key);
  }

  /** `aes256gcm$iv$tag$ciphertext`, base64 parts. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [PREFIX, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('$');
  }

  /** Decrypts an `encrypt` result; throws if it was tampered with or made under another key. */
  decrypt(sealed: string): string {
    const [prefix, iv, tag, data] = sealed.split('$');
    if (prefix !== PREFIX || !iv || !tag || data === undefined) throw new Error('Not an encrypted secret');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}
