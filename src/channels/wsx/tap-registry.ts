import { TooManyRequestsError } from '../../errors/index.js';
import { TAP_LIMITS, type TapInfo, type TapSpec, type TapStopReason, type TapWatcher } from './tap-events.js';
import { Tap, frameText, type FrameText } from './tap.js';

/**
 * Where a channel's connections hand their frames to the taps on it. `active` is the one check on the message path:
 * false while no tap watches the channel, and then nothing else runs.
 */
export class TapPoint {
  readonly channel: string;
  /** True while at least one tap watches this channel (or one of its clients). */
  active = false;
  #taps: Tap[] = [];

  constructor(channel: string) {
    this.channel = channel;
  }

  /** A frame in or out of a connection of the channel: each tap watching the client counts it, and may show it. */
  frame(client: { readonly pubClientId: string }, direction: 'in' | 'out', data: string | Buffer, binary: boolean): void {
    const now = Date.now();
    // Made at most once, and only when a tap shows the frame: a skipped frame costs a counter.
    let text: FrameText | undefined;
    for (const tap of this.#taps) {
      // Called from the connection's read and write paths: a tap's failure must stop the tap, never the connection.
      try {
        if (!tap.watches(client.pubClientId) || !tap.admit(now)) continue;
        text ??= frameText(data);
        tap.show(now, direction, client.pubClientId, text, binary);
      } catch (err) {
        tap.stop('internal_error', err);
      }
    }
  }

  /** A client of the channel disconnected: the taps on it alone stop. */
  clientClosed(pubClientId: string): void {
    for (const tap of [...this.#taps]) if (tap.spec.pubClientId === pubClientId) tap.stop('client_disconnected');
  }

  /** @internal */
  add(tap: Tap): void {
    this.#taps = [...this.#taps, tap];
    this.active = true;
  }

  /** @internal */
  remove(tap: Tap): void {
    // A new array, so that a loop over the old one (a tap stopping while a frame is offered) is not disturbed.
    this.#taps = this.#taps.filter((t) => t !== tap);
    this.active = this.#taps.length > 0;
  }
}

/**
 * The taps of one server: at most `TAP_LIMITS.maxTaps` at once, on any channel. A channel's `TapPoint` is made on
 * first use and kept for the server's life, so that a channel restarted under the same name keeps its taps.
 */
export class TapRegistry {
  readonly #points = new Map<string, TapPoint>();
  readonly #taps = new Map<string, Tap>();

  /** The tap point of a channel (the same object for the same name). */
  point(channel: string): TapPoint {
    let point = this.#points.get(channel);
    if (!point) this.#points.set(channel, (point = new TapPoint(channel)));
    return point;
  }

  /** Starts a tap; 429 `tap_limit_reached` when `TAP_LIMITS.maxTaps` are running. */
  start(spec: TapSpec, watcher: TapWatcher): Tap {
    if (this.#taps.size >= TAP_LIMITS.maxTaps) {
      throw new TooManyRequestsError(
        'tap_limit_reached',
        `${TAP_LIMITS.maxTaps} taps are running on this server; stop one (or wait for one to end) first`,
        { retryAfterSeconds: 5 },
      );
    }
    const point = this.point(spec.channel);
    const tap = new Tap(spec, watcher, (t) => {
      this.#taps.delete(t.id);
      point.remove(t);
    });
    this.#taps.set(tap.id, tap);
    point.add(tap);
    return tap;
  }

  /** The running taps, of one channel or of all. */
  list(channel?: string): TapInfo[] {
    return [...this.#taps.values()].filter((t) => channel === undefined || t.spec.channel === channel).map((t) => t.info());
  }

  /** A running tap by its id. */
  get(tapId: string): Tap | undefined {
    return this.#taps.get(tapId);
  }

  /** Stops every tap (the server is stopping). */
  stopAll(reason: TapStopReason): void {
    for (const tap of [...this.#taps.values()]) tap.stop(reason);
  }
}
