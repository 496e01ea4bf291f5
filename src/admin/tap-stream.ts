import type { ServerResponse } from 'node:http';
import type { TapEvent, TapStopReason, TapWatcher } from '../channels/wsx/index.js';

/** The headers of a tap's event stream: not cached, not buffered by a proxy, not sniffed. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
} as const;

/** One Server-Sent Event: its type, and its data as one line of JSON (JSON text never holds a raw newline). */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * A tap's watcher over an HTTP response kept open (Server-Sent Events): each batch of events is one write, and the
 * response's unsent bytes are the backlog the tap bounds. Dropped for not reading, the socket is destroyed at once
 * (an orderly end would queue behind what it did not read).
 */
export class SseTapWatcher implements TapWatcher {
  readonly #res: ServerResponse;
  readonly #onClose: (reason: TapStopReason, err: unknown) => void;

  constructor(res: ServerResponse, onClose: (reason: TapStopReason, err: unknown) => void) {
    this.#res = res;
    this.#onClose = onClose;
    // A write racing the socket's end reports an error on the response; nothing more is to be done with it.
    res.on('error', () => undefined);
  }

  get backlog(): number {
    return this.#res.writableLength;
  }

  deliver(events: readonly TapEvent[]): void {
    if (this.#open) this.#res.write(events.map((e) => sseEvent(e.type, e)).join(''));
  }

  keepAlive(): void {
    if (this.#open) this.#res.write(': keep-alive\n\n');
  }

  close(reason: TapStopReason, events: readonly TapEvent[], err?: unknown): void {
    this.#onClose(reason, err);
    if (reason === 'watcher_not_reading') return void this.#res.destroy();
    if (!this.#open) return;
    this.#res.end(events.map((e) => sseEvent(e.type, e)).join(''));
  }

  get #open(): boolean {
    return !this.#res.destroyed && !this.#res.writableEnded;
  }
}
