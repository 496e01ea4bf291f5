import { randomFillSync } from 'node:crypto';
import { TOKEN_PREFIX } from './constants.js';

// Random bytes are drawn from the CSPRNG in blocks: one syscall per block instead of per id keeps
// id generation off the hot path while every id stays unpredictable.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** A correlation id: 96 random bits as hex, like Zato's `new_cid()` but from a CSPRNG. */
export function newCid(): string {
  return randomHex(12);
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
