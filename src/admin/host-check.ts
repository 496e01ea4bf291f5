import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The host name part of a `Host` header or an allow-list entry, lower case, without port or trailing dot;
 * IPv6 literals keep their brackets. Undefined for what is not a plausible host.
 */
export function hostNameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  const name = v.startsWith('[') ? /^(\[[0-9a-f:.]+\])(?::\d+)?$/.exec(v)?.[1] : /^([a-z0-9._-]+)(?::\d+)?$/.exec(v)?.[1];
  return name?.replace(/\.$/, '') || undefined;
}

/** An address as a `Host` header names it: IPv6 literals in brackets. */
const asHost = (address: string): string => (address.includes(':') && !address.startsWith('[') ? `[${address}]` : address);

/** When the admin listens on every interface, each interface address and the machine's name are its own. */
function interfaceHosts(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((i) => asHost(i.address.toLowerCase())),
  );
  return [hostname().toLowerCase(), ...addresses];
}

/**
 * Decides which `Host` headers the admin answers. A browser tricked by DNS rebinding sends the attacker's host
 * name; refusing every name but the admin's own keeps such a page from reading or changing anything. The port
 * is not compared: it does not help against rebinding, and port mappings (containers, proxies) change it.
 */
export class HostCheck {
  readonly #allowed: ReadonlySet<string>;
  readonly #any: boolean;

  /** `bound`: the address the admin listens on; `extra`: the `adminAllowedHosts` setting (`*` allows any). */
  constructor(bound: string, extra: readonly string[]) {
    this.#any = extra.includes('*');
    const own = WILDCARDS.has(bound.toLowerCase()) ? interfaceHosts() : [asHost(bound)];
    const names = [...LOOPBACK_NAMES, ...own, ...extra].map(hostNameOf).filter((n): n is string => n !== undefined);
    this.#allowed = new Set(names);
  }

  /** True when a request with this `Host` header may be answered. */
  allows(hostHeader: string | undefined): boolean {
    if (this.#any) return true;
    const name = hostNameOf(hostHeader);
    return name !== undefined && this.#allowed.has(name);
  }
}
