import { TooManyRequestsError } from '../../errors/index.js';
import { ACTION, CLOSE_CODE, errorMessage, errorResponse, newCid, parseClientFrame } from '../../protocol/index.js';
import type { ConnectionHost } from './connection-host.js';
import { plainError } from './plain-error.js';
import { TokenBucket, burstOf } from './token-bucket.js';

/** Refusals this close (or within the bucket's refill time, if longer) belong to one run of excess. */
export const EXCESS_GAP_MS = 1000;
/** A run of excess this long closes the connection. */
export const EXCESS_MAX_MS = 5000;
/** A run of excess with this many refusals closes the connection (sooner than EXCESS_MAX_MS for a flood). */
export const EXCESS_MAX_REFUSALS = 100;
// Frames larger than this are refused without reading their meta.id: refusing must cost less than handling.
const MAX_PARSED_REFUSAL = 4096;

/** What the limit needs of a connection. */
export interface RateLimited {
  readonly protocol: 'zato' | 'plain';
  push(frame: string): boolean;
  close(code: number, reason: string): void;
}

/**
 * One connection's message rate (`messageRate` / `messageBurst`, docs/security.md "Rate limits"): a token bucket
 * taken from by every data message (pings and pongs are control frames and do not count). A message without a
 * token is not handled: it gets one 429 `rate_limited` error frame in the protocol's shape. Refusals less than
 * EXCESS_GAP_MS apart form a run; a run that lasts EXCESS_MAX_MS or reaches EXCESS_MAX_REFUSALS refusals closes
 * the connection with 1008 (counted as `rate_limit_exceeded`). Error frames are bounded by that, and a client that
 * does not read them is not read from (the connection's backpressure) until they drain.
 */
export class MessageRate {
  #bucket: TokenBucket | undefined;
  #runStart = 0;
  #lastRefusal = -Infinity;
  #refusals = 0;
  // Set by the close: what the client sent before it saw the close frame is dropped, and not counted again.
  #closing = false;

  /** False when the message at `now` (ms) may be handled; true when it was refused (and maybe the connection closed). */
  refused(client: RateLimited, host: Pick<ConnectionHost, 'config' | 'protocolError'>, now: number, data: Buffer): boolean {
    const { messageRate, messageBurst } = host.config;
    if (this.#closing) return true;
    if (messageRate === null) return false;
    const burst = burstOf(messageRate, messageBurst);
    const bucket = (this.#bucket ??= new TokenBucket(now, burst));
    if (bucket.take(now, messageRate, burst)) return false;
    // A run of excess ends when a whole refill period (at least EXCESS_GAP_MS) passes without a refusal.
    if (now - this.#lastRefusal > Math.max(EXCESS_GAP_MS, (burst / messageRate) * 1000)) {
      this.#runStart = now;
      this.#refusals = 0;
    }
    this.#lastRefusal = now;
    this.#refusals++;
    host.protocolError('rate_limited');
    if (this.#refusals >= EXCESS_MAX_REFUSALS || now - this.#runStart >= EXCESS_MAX_MS) {
      this.#closing = true;
      host.protocolError('rate_limit_exceeded');
      client.close(CLOSE_CODE.POLICY, 'Message rate exceeded');
      return true;
    }
    const error = new TooManyRequestsError(
      'rate_limited',
      `This channel takes at most ${messageRate} messages per second (bursts of ${burst}); the message was not handled`,
      { retryAfterSeconds: bucket.secondsToNext(messageRate) },
    );
    client.push(client.protocol === 'plain' ? plainError(error) : zatoRefusal(error, data));
    return true;
  }
}

// With the frame's meta.id as in_reply_to when it is small enough to read, so a Zato client's call fails at once
// instead of timing out. Never for a create-session: a Zato client takes any reply to it for the session.
function zatoRefusal(error: TooManyRequestsError, data: Buffer): string {
  if (data.length > MAX_PARSED_REFUSAL) return errorMessage(error);
  const parsed = parseClientFrame(data.toString('utf8'));
  if (!parsed.ok || parsed.message.meta.action === ACTION.CREATE_SESSION) return errorMessage(error);
  return errorResponse(parsed.message.meta.id, error, newCid());
}
