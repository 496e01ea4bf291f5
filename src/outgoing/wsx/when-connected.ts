import type { EventEmitter } from 'node:events';
import type { SocketState } from './socket-link.js';

/** A socket that emits `state` whenever its state changes. */
export interface StatefulSocket extends EventEmitter {
  readonly state: SocketState;
}

/**
 * Resolves true once `socket` is connected, false once it is stopped or after `timeoutMs`. `isOpen` says whether
 * 'connected' now really is: a socket whose close handshake is under way is not connected yet.
 */
export function whenConnected(socket: StatefulSocket, isOpen: boolean, timeoutMs: number): Promise<boolean> {
  if (socket.state === 'connected' && isOpen) return Promise.resolve(true);
  if (socket.state === 'stopped') return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.off('state', onState);
      resolve(ok);
    };
    const onState = (state: SocketState): void => {
      if (state === 'connected' || state === 'stopped') done(state === 'connected');
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    socket.on('state', onState);
  });
}
