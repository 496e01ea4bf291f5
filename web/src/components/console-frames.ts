// The live console's frame log: every frame the page's own client sends and receives, recorded by a WebSocket class
// handed to the client library (its `WebSocket` option), so that the library itself knows nothing of the console.
import type { WebSocketConstructor } from '../../../src/client/index.js';

/** One frame in or out, as the console lists it. */
export interface ConsoleFrame {
  readonly key: number;
  readonly direction: 'in' | 'out';
  readonly at: Date;
  readonly size: number;
  readonly text: string;
}

/** Frames the console keeps: older ones are dropped, so a long session never grows the page. */
export const MAX_CONSOLE_FRAMES = 500;
/** Characters of a frame shown; the size column keeps the whole size. */
const MAX_SHOWN = 4096;

/**
 * What the console shows of a frame: the credentials the user typed (`meta.secret`) and the session token never
 * appear, even on the user's own screen, which may be shared or recorded.
 */
export function shownText(raw: string): string {
  let text = raw;
  try {
    const frame = JSON.parse(raw) as { meta?: Record<string, unknown>; data?: unknown };
    if (frame && typeof frame.meta === 'object' && frame.meta !== null) {
      const meta = frame.meta;
      if (typeof meta.secret === 'string') meta.secret = '••••••';
      if (typeof meta.token === 'string') meta.token = `${meta.token.slice(0, 9)}…`;
      // The session's token as the server hands it out (the create-session reply's data).
      const data = frame.data as { token?: unknown } | undefined;
      if (data && typeof data === 'object' && typeof data.token === 'string') data.token = `${data.token.slice(0, 9)}…`;
      text = JSON.stringify(frame);
    }
  } catch {
    // Not JSON (a plain channel's text): shown as it is.
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function sizeOf(data: unknown): number {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  return `(binary, ${sizeOf(data)} bytes)`;
}

/** The browser's WebSocket, recording every frame sent and received with `record`. */
export function recordingWebSocket(record: (direction: 'in' | 'out', size: number, text: string) => void): WebSocketConstructor {
  class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', (event: MessageEvent) => record('in', sizeOf(event.data), textOf(event.data)));
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      record('out', sizeOf(data), textOf(data));
      super.send(data);
    }
  }
  return RecordingWebSocket as unknown as WebSocketConstructor;
}
