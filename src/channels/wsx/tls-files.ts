// A certificate and key pair read from PEM files, checked before anything listens with it.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import { ValidationError } from '../../errors/index.js';
import { readPemFile } from '../../security/index.js';

/** Where a TLS server's certificate (chain) and private key are, as PEM files. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A pair that parsed and matched: what a secure context is built from. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** SHA-256 fingerprint of the (leaf) certificate, as Node prints it: what logs name. */
  readonly fingerprint: string;
  /** When the certificate expires (its `validTo`). */
  readonly validTo: string;
}

/** The oldest protocol a TLS server of ours accepts: TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** Field names the errors carry: the channel's, unless the caller names its own (a setting's). */
export interface TlsFieldNames {
  readonly cert: string;
  readonly key: string;
}

const CHANNEL_FIELDS: TlsFieldNames = { cert: 'tlsCertFile', key: 'tlsKeyFile' };

function readPem(file: string, field: string, marker: RegExp, what: string): Buffer {
  const data = readPemFile(file, field);
  if (!marker.test(data.toString('latin1')))
    throw new ValidationError('invalid_input', `${field} ${file} does not hold a PEM ${what}`, { field });
  return data;
}

/**
 * Reads and checks a PEM certificate and private key: both parse and the key belongs to the certificate.
 * Throws a 400 naming the field at fault, so that a bad pair is refused when configured, never at listen time.
 */
export function loadTlsPair(files: TlsFiles, fields: TlsFieldNames = CHANNEL_FIELDS): TlsPair {
  const cert = readPem(files.certFile, fields.cert, /-----BEGIN CERTIFICATE-----/, 'certificate');
  const key = readPem(files.keyFile, fields.key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ValidationError('invalid_input', `${fields.cert} ${files.certFile}: ${(err as Error).message}`, {
      field: fields.cert,
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    // An encrypted key lands here too: the server has no passphrase to give.
    throw new ValidationError('invalid_input', `${fields.key} ${files.keyFile}: ${(err as Error).message}`, {
      field: fields.key,
    });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ValidationError(
      'invalid_input',
      `${fields.key} ${files.keyFile} is not the private key of the certificate in ${fields.cert} ${files.certFile}`,
      { field: fields.key },
    );
  }
  return { cert, key, fingerprint: x509.fingerprint256, validTo: x509.validTo };
}

/** The secure-context options of a TLS server serving `pair`. */
export function secureContextOptions(pair: TlsPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION };
}

/** True when both name the same files (both undefined: both plain). */
export function sameTlsFiles(a: TlsFiles | undefined, b: TlsFiles | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.certFile === b.certFile && a.keyFile === b.keyFile);
}
