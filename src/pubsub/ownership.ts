import { ForbiddenError } from '../errors/index.js';
import type { Subscription } from './subscription.js';
import type { Caller } from './views.js';

/**
 * Whether `caller` may resume or delete `sub`. Zato's rule (the attached connection, or the same client_id), and on
 * top of it: a subscription created through a security definition is only ever its own clients', however they name
 * themselves. `attached` is the connection it is attached to here, if any; `callerSecurity` the caller's definition.
 */
export function checkOwner(sub: Subscription, attached: string | undefined, caller: Caller, callerSecurity: string | null): void {
  const securityName = sub.securityName ?? null;
  if (securityName !== null && callerSecurity !== securityName) {
    throw new ForbiddenError('forbidden', `Subscription ${sub.subKey} belongs to another security definition`);
  }
  caller.mayHold?.(sub.topicName);
  if (attached === caller.pubClientId) return;
  if (sub.extClientId !== null && sub.extClientId === caller.extClientId) return;
  throw new ForbiddenError('not_subscription_owner', `Subscription ${sub.subKey} belongs to another client`);
}
