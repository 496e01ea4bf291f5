import { TOKEN_PREFIX } from './constants.js';

// Random bytes are drawn from the CSPRNG in blocks: one call per block instead of per id keeps id generation off
// the hot path while every id stays unpredictable. Web Crypto (`globalThis.crypto`, in Node 20 and browsers)
// rather than node:crypto, so that a WSX client in a browser uses this file as is.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  let hex = '';
  for (let i = offset; i < offset + bytes; i++) hex += HEX[pool[i]!]!;
  offset += bytes;
  return hex;
}

// Correlation ids need to be unique, not secret: a random per-process prefix and a counter are both, and far
// cheaper than drawing random bytes for every frame. Tokens, which must be unguessable, use the CSPRNG.
const CID_PREFIX = randomHex(5);
let cidCounter = 0;

/** A correlation id: 24 hex digits (as Zato's `new_cid()`), unique across processes and restarts. */
export function newCid(): string {
  cidCounter = (cidCounter + 1) % 0x100000000000;
  return CID_PREFIX + cidCounter.toString(16).padStart(14, '0');
}

/** A session token: `zwsxt.` and 128 random bits. */
export function newToken(): string {
  return TOKEN_PREFIX + randomHex(16);
}

/** A random hex string of `bytes` bytes, for other prefixed ids (pub client ids, sub keys). */
export function newHexId(bytes = 12): string {
  return randomHex(bytes);
}

let lastMs = 0;
let lastIso = '';

/** The wire timestamp: ISO 8601 in UTC. Formatted at most once per millisecond (it is on every frame). */
export function timestamp(now?: Date): string {
  if (now) return now.toISOString();
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
