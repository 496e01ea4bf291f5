// TLS towards a wss:// remote: which CA to trust, and a clear error when the remote's certificate is not trusted.
import { X509Certificate } from 'node:crypto';
import { SwitchboardError, ValidationError } from '../../errors/index.js';
import { readPemFile } from '../../security/index.js';
import type { OutgoingConfig } from './config.js';

/** Node's codes for a remote certificate that failed verification (chain, dates or host name). */
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The remote's certificate is not trusted: the connection is refused before any data is sent. */
export class RemoteCertificateError extends SwitchboardError {
  declare readonly code: 'remote_certificate_untrusted';
  constructor(code: 'remote_certificate_untrusted', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Reads a PEM CA file; a 400 naming `tlsCaFile` when it cannot be read or holds no certificate. */
export function readCaFile(file: string): Buffer {
  const data = readPemFile(file, 'tlsCaFile');
  try {
    if (!data.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    new X509Certificate(data);
  } catch (err) {
    throw new ValidationError('invalid_input', `tlsCaFile ${file}: ${(err as Error).message}`, { field: 'tlsCaFile' });
  }
  return data;
}

/**
 * The TLS options of a socket to the remote. The CA file is read on every connect, so that a replaced one is used
 * from the next reconnect on. Host name verification stays on (SNI and the name checked come from the address).
 */
export function remoteTlsOptions(config: OutgoingConfig): { ca?: Buffer; rejectUnauthorized?: boolean } {
  if (!config.address.toLowerCase().startsWith('wss:')) return {};
  return {
    rejectUnauthorized: config.tlsRejectUnauthorized,
    ...(config.tlsCaFile ? { ca: readCaFile(config.tlsCaFile) } : {}),
  };
}

/** The typed error for a socket error that is a certificate refused; undefined for any other error. */
export function untrustedCertificate(err: Error & { code?: string }, config: OutgoingConfig): RemoteCertificateError | undefined {
  if (!err.code || !UNTRUSTED_CODES.has(err.code)) return undefined;
  const trusting = config.tlsCaFile ? `the CA in tlsCaFile ${config.tlsCaFile}` : "the system's CAs";
  return new RemoteCertificateError(
    'remote_certificate_untrusted',
    `The remote's certificate is not trusted by ${trusting} (${err.code}: ${err.message}); set tlsCaFile to the CA ` +
      'that signed it',
    { cause: err },
  );
}
