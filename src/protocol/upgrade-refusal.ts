import { parseJsonBounded } from './json.js';

/** A channel's HTTP answer to a WebSocket upgrade it refused: its status and the body's `{ error: { code, message } }`. */
export interface UpgradeRefusal {
  readonly status: number;
  /** `error.code` of the body (a Switchboard server), when there is one. */
  readonly code?: string | undefined;
  /** `error.message` of the body, when there is one. */
  readonly message?: string | undefined;
}

/** The most of a refusal's body that is read: Switchboard's are ~100 bytes; anything larger is not one of ours. */
export const MAX_REFUSAL_BODY = 4096;

/** Reads a refused upgrade's answer; a body that is not Switchboard's JSON (another server's) gives the status only. */
export function parseUpgradeRefusal(status: number, body: string): UpgradeRefusal {
  const parsed = body.length <= MAX_REFUSAL_BODY ? parseJsonBounded(body) : undefined;
  const error = parsed?.ok ? (parsed.value as { error?: { code?: unknown; message?: unknown } } | null)?.error : undefined;
  if (typeof error !== 'object' || error === null) return { status };
  return {
    status,
    code: typeof error.code === 'string' ? error.code.slice(0, 100) : undefined,
    message: typeof error.message === 'string' ? error.message.slice(0, 500) : undefined,
  };
}

/** The body of a refused upgrade, as `parseUpgradeRefusal` reads it. */
export function upgradeRefusalBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
