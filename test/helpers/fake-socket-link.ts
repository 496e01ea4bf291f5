import { WebSocket } from 'ws';
import { pino } from 'pino';
import { normalizeOutgoing, type OutgoingInput } from '../../src/outgoing/wsx/config.js';
import type { SocketLink, SocketStats } from '../../src/outgoing/wsx/socket-link.js';

/** A socket that records what is sent on it. */
export class FakeWs {
  readonly sent: string[] = [];
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;

  send(frame: string): void {
    this.sent.push(frame);
  }

  /** The sent frames, parsed. */
  frames(): Array<{ meta: Record<string, unknown>; data: unknown }> {
    return this.sent.map((text) => JSON.parse(text) as { meta: Record<string, unknown>; data: unknown });
  }

  asWs(): WebSocket {
    return this as unknown as WebSocket;
  }
}

/** A `SocketLink` over a `FakeWs`, recording errors and ignored frames, for unit tests of a socket's parts. */
export interface FakeLink {
  readonly link: SocketLink;
  readonly ws: FakeWs;
  readonly stats: SocketStats;
  readonly errors: string[];
  readonly ignored: string[];
  /** What `whenConnected` resolves with. */
  reconnects: boolean;
}

export function fakeLink(config: Partial<OutgoingInput> = {}, index = 0): FakeLink {
  const ws = new FakeWs();
  const stats: SocketStats = { messagesIn: 0, messagesOut: 0, reconnects: 0, badFrames: 0 };
  const fake: FakeLink = {
    ws,
    stats,
    errors: [],
    ignored: [],
    reconnects: false,
    link: {
      config: normalizeOutgoing({ name: 'out', address: 'ws://127.0.0.1:1/remote', isZato: true, ...config }),
      index,
      log: pino({ level: 'silent' }),
      stats,
      current: () => ws.asWs(),
      isCurrent: (s) => s === ws.asWs() && ws.readyState === WebSocket.OPEN,
      writable: () => ws.asWs(),
      sendOwn: (s, frame) => s.send(frame),
      ignore: (reason) => void fake.ignored.push(reason),
      setLastError: (text) => void fake.errors.push(text),
      whenConnected: async () => fake.reconnects,
      after: (ms, fn) => void setTimeout(fn, ms),
    },
  };
  return fake;
}
