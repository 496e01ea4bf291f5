/** The reply to `send()`/`invoke()` on a Zato-protocol remote (Zato's `ResponseFromServer`). */
export interface WsxResponse {
  /** The reply frame's `meta.id`. */
  readonly id: string;
  /** `meta.status` (200 on success). */
  readonly status: number;
  /** `status === 200`. */
  readonly isOk: boolean;
  /** The reply's `data`: the remote service's response, or error details. */
  readonly data: unknown;
  /** The `meta.id` of the request this answers. */
  readonly inReplyTo: string;
  /** `meta.error_message` on errors. */
  readonly errorMessage?: string;
  /** `meta.code` on errors from a Switchboard remote. */
  readonly code?: string;
}

interface ServerFrameShape {
  meta?: { id?: unknown; status?: unknown; in_reply_to?: unknown; error_message?: unknown; code?: unknown; msg_type?: unknown };
  data?: unknown;
}

/** A remote's id as text: strings and finite numbers only (String() of an object with a bad toString throws). */
function idText(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
}

/** Reads a remote's reply frame into a `WsxResponse`; fields of unexpected types read as absent. */
export function toResponse(frame: ServerFrameShape): WsxResponse {
  const meta = frame.meta ?? {};
  const status = typeof meta.status === 'number' && Number.isInteger(meta.status) ? meta.status : 200;
  const response: WsxResponse = {
    id: idText(meta.id),
    status,
    isOk: status === 200,
    data: frame.data,
    inReplyTo: idText(meta.in_reply_to),
    ...(typeof meta.error_message === 'string' ? { errorMessage: meta.error_message } : {}),
    ...(typeof meta.code === 'string' ? { code: meta.code } : {}),
  };
  return response;
}
