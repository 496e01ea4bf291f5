import { WebSocket } from 'ws';
import { CLOSE_TIMEOUT_MS } from '../../protocol/index.js';
import type { OutgoingConfig } from './config.js';
import { remoteTlsOptions } from './remote-tls.js';

/** A socket being opened, and whether its upgrade was cut off for taking longer than `connectTimeout`. */
export interface OpeningSocket {
  readonly ws: WebSocket;
  upgradeTimedOut(): boolean;
}

/**
 * Opens a WebSocket to the remote with the connection's limits. Throws as `new WebSocket` does (a bad address), or
 * when the CA file cannot be read.
 * `handshakeTimeout` is an idle timeout: a remote that sends its upgrade answer a byte at a time never trips it,
 * so the whole upgrade also has a deadline.
 */
export function openRemote(config: OutgoingConfig): OpeningSocket {
  const ws = new WebSocket(config.address, {
    handshakeTimeout: config.connectTimeout * 1000,
    maxPayload: config.maxMessageSize,
    perMessageDeflate: false,
    followRedirects: false,
    // Pongs are sent by us, so that a ping flood from a remote that does not read cannot queue them without bound.
    autoPong: false,
    closeTimeout: CLOSE_TIMEOUT_MS,
    ...remoteTlsOptions(config),
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    if (ws.readyState !== WebSocket.CONNECTING) return;
    timedOut = true;
    ws.terminate();
  }, config.connectTimeout * 1000);
  deadline.unref();
  const clear = (): void => clearTimeout(deadline);
  ws.once('open', clear);
  ws.once('close', clear);
  return { ws, upgradeTimedOut: () => timedOut };
}
