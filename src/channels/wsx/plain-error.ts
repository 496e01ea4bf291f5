import type { SwitchboardError } from '../../errors/index.js';

/** The error frame of plain channels: one JSON text frame. */
export function plainError(error: Pick<SwitchboardError, 'code' | 'status' | 'message'>, cid?: string): string {
  return JSON.stringify({ error: { code: error.code, status: error.status, message: error.message, ...(cid ? { cid } : {}) } });
}
