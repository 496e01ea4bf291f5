import type { SwitchboardError } from '../../errors/index.js';
import type { InvokeDone } from '../../services/index.js';

/**
 * The service calls of one connection still running, for `maxInFlight` and `invokeTimeout`. No timer per call
 * (this is on every message's path): the channel's sweep expires the oldest. Insertion order is start order,
 * and every call of a connection has the same timeout, so the oldest expire first.
 */
export class InFlightCalls {
  // Made by the first call: an idle connection holds no map (bench/connections).
  #calls: Map<number, { readonly startedAt: number; readonly done: InvokeDone }> | undefined;
  #next = 0;

  /** Calls running now. */
  get size(): number {
    return this.#calls?.size ?? 0;
  }

  /** Registers a call started at `startedAt` (ms); the key ends it. */
  start(startedAt: number, done: InvokeDone): number {
    const key = this.#next++;
    (this.#calls ??= new Map()).set(key, { startedAt, done });
    return key;
  }

  /** Ends a call; its `done` if it was still running, else undefined (it timed out, or the connection closed). */
  finish(key: number): InvokeDone | undefined {
    const call = this.#calls?.get(key);
    if (call) this.#calls!.delete(key);
    return call?.done;
  }

  /** Ends, with `timeout()`, every call that started `limitMs` or more before `now`. */
  expire(now: number, limitMs: number, timeout: () => SwitchboardError): void {
    if (!this.#calls) return;
    for (const [key, call] of this.#calls) {
      if (now - call.startedAt < limitMs) break;
      this.#calls.delete(key);
      call.done(timeout());
    }
  }

  /** Forgets every call (the connection closed: their answers go to no one). */
  clear(): void {
    this.#calls?.clear();
  }
}
