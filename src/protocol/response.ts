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

/** Reads a remote's reply frame into a `WsxResponse`. */
export function toResponse(frame: ServerFrameShape): WsxResponse {
  const meta = frame.meta ?? {};
  const status = typeof meta.status === 'number' ? meta.status : 200;
  const response: WsxResponse = {
    id: String(meta.id ?? ''),
    status,
    isOk: status === 200,
    data: frame.data,
    inReplyTo: String(meta.in_reply_to ?? ''),
    ...(typeof meta.error_message === 'string' ? { errorMessage: meta.error_message } : {}),
    ...(typeof meta.code === 'string' ? { code: meta.code } : {}),
  };
  return response;
}
