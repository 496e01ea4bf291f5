// The fixed limits of one channel connection (docs/channels.md, "Limits").

/** How long a server → client request waits for the response unless the caller says. */
export const DEFAULT_INVOKE_TIMEOUT_MS = 5000;
/** Bytes queued for one client before we stop reading its requests until the socket drains. */
export const WRITE_HIGH_WATER = 4 * 1024 * 1024;
/**
 * Bytes already queued for one client past which it is cut off when one more frame is to be written (or four of
 * its largest messages, if more): replies and pub/sub deliveries stop at their high-water marks, but pushes from
 * services (send, broadcast) do not wait. Measured before the write, so one large frame always goes out.
 */
export const MAX_WRITE_BUFFER = 16 * 1024 * 1024;
/** Server → client requests awaiting a reply, per client; more is refused rather than growing without bound. */
export const MAX_PENDING_REQUESTS = 10_000;
