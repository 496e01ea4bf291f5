/** How long failures from one address are remembered (and how long a throttled address waits). */
export const FAILURE_WINDOW_MS = 60_000;

/** Addresses remembered at most: beyond this, expired ones are forgotten first, then the oldest. */
export const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * The part of a client address that one party controls: an IPv4 address, or the /64 network of an IPv6 one
 * (a single host usually holds a whole /64, so counting per IPv6 address would give it 2^64 budgets).
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('%', 1)[0]!.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * Counts failed credentials per client address (see {@link addressKey}) — logins, bearer tokens and session
 * cookies alike — so that neither a password nor the token can be guessed at network speed. Throttling only
 * ever refuses *wrong* credentials: callers check the credential first, so the owner is never locked out by
 * someone guessing from the same address (a reverse proxy, a NAT). A success does not clear the count, for the
 * same reason: the owner's requests would otherwise reopen the window for a guesser behind the same address.
 */
export class FailureThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #limit: number;
  readonly #onBlocked: ((ip: string) => void) | undefined;

  /** `limit`: failures allowed per address per window; `onBlocked` is told once per window when an address hits it. */
  constructor(limit: number, onBlocked?: (ip: string) => void) {
    this.#limit = limit;
    this.#onBlocked = onBlocked;
  }

  /** True when `ip` has used up its failures for the current window. */
  blocked(address: string, now = Date.now()): boolean {
    const ip = addressKey(address);
    const f = this.#failures.get(ip);
    if (f && now - f.since > FAILURE_WINDOW_MS) this.#failures.delete(ip);
    return (this.#failures.get(ip)?.count ?? 0) >= this.#limit;
  }

  /** Records one failure from `ip`. */
  failed(address: string, now = Date.now()): void {
    const ip = addressKey(address);
    if (!this.#failures.has(ip) && this.#failures.size >= MAX_TRACKED_ADDRESSES) this.#forget(now);
    const f = this.#failures.get(ip) ?? { count: 0, since: now };
    f.count++;
    this.#failures.set(ip, f);
    if (f.count === this.#limit) this.#onBlocked?.(ip);
  }

  /** Addresses currently remembered (for tests and metrics). */
  get size(): number {
    return this.#failures.size;
  }

  // Forget addresses whose window has passed, so many failing addresses cannot grow the map without end; when
  // all are recent, the oldest goes (a Map iterates in insertion order).
  #forget(now: number): void {
    for (const [key, f] of this.#failures) if (now - f.since > FAILURE_WINDOW_MS) this.#failures.delete(key);
    while (this.#failures.size >= MAX_TRACKED_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string);
  }
}
