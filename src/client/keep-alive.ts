import { Heartbeat } from '../protocol/client.js';

/** Client-side liveness of a WSX connection (off unless asked for). */
export interface KeepAliveOptions {
  /** Milliseconds between keep-alive calls; default 30,000. */
  readonly interval?: number | undefined;
  /** Calls in a row without an answer after which the connection is given up; default 2. */
  readonly missed?: number | undefined;
}

/**
 * Calls `zato.ping` through the gateway every `interval` (the heartbeat of `protocol/heartbeat.ts`) and gives the
 * connection up after `missed` calls in a row got no answer. Browsers answer the server's pings but cannot send
 * their own, so without this a connection whose peer vanished (a network that changed, a laptop that slept) looks
 * open until TCP gives up, which can take many minutes.
 */
export function startKeepAlive(
  options: KeepAliveOptions,
  ping: (timeoutMs: number) => Promise<unknown>,
  dead: () => void,
): Heartbeat {
  const intervalMs = options.interval ?? 30_000;
  const heartbeat: Heartbeat = new Heartbeat({
    intervalMs,
    missedThreshold: options.missed ?? 2,
    ping: () => {
      ping(intervalMs).then(
        () => heartbeat.onPong(),
        () => undefined,
      );
    },
    dead,
  });
  heartbeat.start();
  return heartbeat;
}
