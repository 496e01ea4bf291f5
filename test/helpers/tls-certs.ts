// Self-signed certificates for the TLS tests, made with the `openssl` command into a directory of the test's.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as PEM files. */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 fingerprint, as `X509Certificate.fingerprint256` and `getPeerCertificate().fingerprint256` print it. */
  readonly fingerprint: string;
}

/** A certificate authority that issues server certificates for localhost and 127.0.0.1. */
export interface TestCa {
  /** The CA's certificate: what a client is given to trust. */
  readonly caFile: string;
  /** A server certificate signed by this CA, named `name` in the directory; for localhost and 127.0.0.1 by default. */
  issue(name: string, subjectAltName?: string): CertFiles;
}

const SUBJECT_ALT_NAMES = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
// P-256 keys: made in milliseconds, unlike RSA.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** Makes a CA in `dir`. */
export function makeCa(dir: string, name = 'ca'): TestCa {
  const caFile = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...NEW_KEY, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=Switchboard test ${name}`]);
  return {
    caFile,
    issue(leaf: string, subjectAltName = SUBJECT_ALT_NAMES): CertFiles {
      const certFile = join(dir, `${leaf}.pem`);
      const keyFile = join(dir, `${leaf}.key`);
      const csr = join(dir, `${leaf}.csr`);
      const ext = join(dir, `${leaf}.ext`);
      writeFileSync(ext, `${subjectAltName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      openssl(['req', ...NEW_KEY, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
      // A random serial: two leaves issued in one second must differ.
      const serial = `0x${createHash('sha256').update(`${leaf}${Math.random()}`).digest('hex').slice(0, 16)}`;
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        serial,
        '-out',
        certFile,
        '-days',
        '2',
        '-extfile',
        ext,
      ]);
      return { certFile, keyFile, fingerprint: fingerprintOf(certFile) };
    },
  };
}

/** A self-signed server certificate for localhost and 127.0.0.1 (its own CA: trust it by giving the cert itself). */
export function selfSigned(dir: string, name: string): CertFiles {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    SUBJECT_ALT_NAMES,
  ]);
  return { certFile, keyFile, fingerprint: fingerprintOf(certFile) };
}
