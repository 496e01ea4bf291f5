/** A taken connection slot; `release()` may be called any number of times, it frees the slot once. */
export interface Slot {
  release(): void;
}

/** Why a slot was refused. */
export type SlotRefusal = 'too_many_connections' | 'too_many_connections_per_ip';

/**
 * Counts a channel's connections, in total and per IP address, from the moment a handshake arrives (before
 * anything is awaited, e.g. a password hash) until the connection closes, so that concurrent handshakes
 * cannot pass the limits together.
 */
export class ConnectionSlots {
  #total = 0;
  readonly #perIp = new Map<string, number>();

  /** Slots taken now. */
  get total(): number {
    return this.#total;
  }

  /** Takes a slot for `ip`, or says which limit refuses it; a null limit is no limit. */
  take(ip: string, maxTotal: number | null, maxPerIp: number | null): Slot | SlotRefusal {
    if (maxTotal !== null && this.#total >= maxTotal) return 'too_many_connections';
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (maxPerIp !== null && fromIp >= maxPerIp) return 'too_many_connections_per_ip';
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);
    return new HeldSlot(this, ip);
  }

  /** @internal Frees one slot of `ip` (a `HeldSlot` calls it once). */
  free(ip: string): void {
    this.#total--;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    // Entries go when their count does, so the map holds only addresses with connections.
    if (left <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, left);
  }
}

// A class, not a closure: one of these lives as long as its connection (bench/connections counts the bytes).
class HeldSlot implements Slot {
  #slots: ConnectionSlots | undefined;

  constructor(
    slots: ConnectionSlots,
    readonly ip: string,
  ) {
    this.#slots = slots;
  }

  release(): void {
    const slots = this.#slots;
    this.#slots = undefined;
    slots?.free(this.ip);
  }
}

/** The address a limit counts: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address it maps. */
export function clientIp(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}
