// HTTPS for the admin API and web admin: the server options, and certificate rotation while it listens.
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadTlsPair, secureContextOptions, TlsReloader, type TlsFiles, type TlsPair } from '../channels/wsx/index.js';

// Errors name the settings, as the settings loader's do.
const FIELDS = { cert: 'adminTlsCert', key: 'adminTlsKey' };

/** The admin's certificate and key, checked; a start-up error naming the setting when they cannot be used. */
export function loadAdminTls(files: TlsFiles): TlsPair {
  try {
    return loadTlsPair(files, FIELDS);
  } catch (err) {
    throw new Error((err as Error).message, { cause: err });
  }
}

/**
 * Node's HTTPS server options: the HTTP limits, the pair, and a handshake deadline equal to the headers timeout
 * (Node's headersTimeout only starts once TLS is up).
 */
export function adminHttpsOptions(pair: TlsPair, http: object, handshakeTimeout: number): HttpsOptions {
  return { ...http, ...secureContextOptions(pair), handshakeTimeout };
}

/** Re-reads the files while the admin listens (swapping its secure context), and logs failed handshakes. */
export function watchAdminTls(app: FastifyInstance, files: TlsFiles, pair: TlsPair, logger: Logger): void {
  const reloader = new TlsReloader({
    files,
    current: pair,
    logger,
    fields: FIELDS,
    apply: (next) =>
      (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext(secureContextOptions(next)),
  });
  app.addHook('onListen', async () => {
    app.server.on('tlsClientError', (err: Error & { code?: string }) =>
      logger.debug({ err: err.code ?? err.message }, 'Admin TLS handshake failed'),
    );
    reloader.start();
  });
  app.addHook('onClose', async () => reloader.stop());
}
