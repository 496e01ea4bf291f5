/**
 * Ping/pong liveness of one connection, the same rule on the channel side and the outgoing side: a ping every
 * `intervalMs`; a tick that finds the previous ping unanswered counts a missed pong, and `missedThreshold` missed
 * in a row make the peer dead (`dead()` is called once and the heartbeat stops). Any pong resets the count.
 * Its own timer, or driven by its owner's (`driven`); no sockets; browser-safe.
 */

/** What a heartbeat needs from its connection. */
export interface HeartbeatOptions {
  /** 0 or less: no pings at all. */
  readonly intervalMs: number;
  /** Missed pongs in a row (at least 1) after which the peer is taken for dead. */
  readonly missedThreshold: number;
  /** Sends one ping. */
  ping(): void;
  /** The peer missed `missed` pongs in a row. */
  dead(missed: number): void;
  /**
   * True while we are not reading from the peer (backpressure): its pong cannot be read then, which is not a
   * dead peer, so the tick neither counts a miss nor pings.
   */
  readonly isPaused?: () => boolean;
  /**
   * No timer of its own: the owner calls `due(now)` often (a channel's sweep, for all its connections at once),
   * and a ping goes out once `intervalMs` has passed. Saves a timer per connection (bench/connections).
   */
  readonly driven?: boolean;
}

/** Pings a peer and notices when it stops answering. */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  // When a driven heartbeat's next tick is due (ms).
  #nextAt = 0;
  #awaitingPong = false;
  #missed = 0;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  /** Pongs missed in a row so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Starts pinging (again: the count starts from zero). */
  start(now: number = Date.now()): void {
    this.stop();
    this.#awaitingPong = false;
    this.#missed = 0;
    if (this.#options.intervalMs <= 0) return;
    this.#running = true;
    this.#nextAt = now + this.#options.intervalMs;
    if (this.#options.driven) return;
    this.#timer = setInterval(() => this.#tick(), this.#options.intervalMs);
    // A heartbeat alone must not keep a process (or a test) alive; browsers have no unref.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** The peer answered. */
  onPong(): void {
    this.#awaitingPong = false;
    this.#missed = 0;
  }

  /** A driven heartbeat's clock: ticks when `intervalMs` has passed since the last tick (or the start). */
  due(now: number): void {
    if (!this.#running || now < this.#nextAt) return;
    this.#nextAt = now + this.#options.intervalMs;
    this.#tick();
  }

  /** Stops pinging (closed, or about to be). */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    // A tick already queued when stop() ran (fake clocks run them) does nothing.
    if (!this.#running) return;
    if (this.#options.isPaused?.()) {
      this.#awaitingPong = false;
      return;
    }
    if (this.#awaitingPong && ++this.#missed >= this.#options.missedThreshold) {
      this.stop();
      this.#options.dead(this.#missed);
      return;
    }
    this.#awaitingPong = true;
    this.#options.ping();
  }
}
