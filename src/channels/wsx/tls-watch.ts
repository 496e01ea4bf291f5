// Certificate rotation: re-reads a server's PEM files when they change and swaps its secure context.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { loadTlsPair, type TlsFieldNames, type TlsFiles, type TlsPair } from './tls-files.js';

/**
 * How often the files are stat()ed. Polling (fs.watchFile) rather than fs.watch: it follows symlinks (Kubernetes
 * rotates a mounted secret by swapping a symlink, cert-manager and certbot by rename, neither of which an inotify
 * watch on the file survives), and it works where inotify does not (NFS, some container bind mounts). The cost is
 * one stat per file per second; a rotation is picked up within about a second.
 */
export const TLS_POLL_MS = 1000;
/** A change is read this long after it is seen, so that a cert and key written one after the other are read together. */
const SETTLE_MS = 200;

/**
 * Watches a certificate and key and calls `apply` with the new pair once BOTH parse and match. A half-written or
 * mismatched pair is logged and the current context kept; the next change tries again. Nothing thrown here
 * (reading, parsing, `apply`) escapes the watcher's callbacks.
 */
export class TlsReloader {
  readonly #files: TlsFiles;
  readonly #apply: (pair: TlsPair) => void;
  readonly #logger: Logger;
  readonly #fields: TlsFieldNames | undefined;
  #current: TlsPair;
  #timer: NodeJS.Timeout | undefined;
  #watching = false;

  constructor(options: {
    files: TlsFiles;
    current: TlsPair;
    apply: (pair: TlsPair) => void;
    logger: Logger;
    fields?: TlsFieldNames;
  }) {
    this.#files = options.files;
    this.#current = options.current;
    this.#apply = options.apply;
    this.#logger = options.logger;
    this.#fields = options.fields;
  }

  /** Starts watching both files (a no-op when already watching). */
  start(): void {
    if (this.#watching) return;
    this.#watching = true;
    // persistent: false — a watcher alone does not keep the process alive.
    for (const file of this.#paths()) watchFile(file, { persistent: false, interval: TLS_POLL_MS }, this.#onChange);
  }

  /** Stops watching; a reload already scheduled does not run. */
  stop(): void {
    if (!this.#watching) return;
    this.#watching = false;
    for (const file of this.#paths()) unwatchFile(file, this.#onChange);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #paths(): string[] {
    const { certFile, keyFile } = this.#files;
    return certFile === keyFile ? [certFile] : [certFile, keyFile];
  }

  readonly #onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#reload(), SETTLE_MS);
    this.#timer.unref();
  };

  #reload(): void {
    this.#timer = undefined;
    if (!this.#watching) return;
    try {
      const pair = loadTlsPair(this.#files, this.#fields);
      if (pair.cert.equals(this.#current.cert) && pair.key.equals(this.#current.key)) return;
      this.#apply(pair);
      this.#current = pair;
      this.#logger.info(
        { certFile: this.#files.certFile, fingerprint: pair.fingerprint, validTo: pair.validTo },
        'TLS certificate reloaded',
      );
    } catch (err) {
      this.#logger.warn(
        { certFile: this.#files.certFile, keyFile: this.#files.keyFile, err: (err as Error).message },
        'TLS files changed but cannot be used; the current certificate stays',
      );
    }
  }
}
