import { TEST_TOKEN } from './server.js';

/** An event of a tap's stream, as it arrived. */
export interface TapStreamEvent {
  readonly type: string;
  readonly data: any;
}

/**
 * A tap's Server-Sent Events stream read by a real HTTP client (fetch): every event is kept in order, so a test can
 * wait for one and then look at all of them.
 */
export class TapStream {
  readonly events: TapStreamEvent[] = [];
  /** Resolves when the server ends the stream (or it fails, or `close()` aborts it). */
  readonly ended: Promise<void>;
  /** Bytes received, keep-alives included. */
  bytes = 0;
  readonly #abort: AbortController;
  #waiters: Array<() => void> = [];

  private constructor(body: ReadableStream<Uint8Array>, abort: AbortController) {
    this.#abort = abort;
    this.ended = this.#read(body).finally(() => this.#wake());
  }

  /**
   * Opens `GET /api/channels/wsx/{channel}/tap?{query}` with the admin token (or `headers`): the stream, or the
   * status and error body of a refusal.
   */
  static async open(
    adminUrl: string,
    channel: string,
    query: Record<string, string> = {},
    headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` },
  ): Promise<{ status: number; stream?: TapStream; error?: { code: string; message: string; field?: string } }> {
    const abort = new AbortController();
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`${adminUrl}/api/channels/wsx/${encodeURIComponent(channel)}/tap${qs ? `?${qs}` : ''}`, {
      headers,
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) return { status: res.status, error: ((await res.json()) as { error: any }).error };
    return { status: 200, stream: new TapStream(res.body, abort) };
  }

  /** Opens a tap that must start (throws with the refusal otherwise), and waits for its `started` event. */
  static async start(adminUrl: string, channel: string, query: Record<string, string> = {}): Promise<TapStream> {
    const opened = await TapStream.open(adminUrl, channel, query);
    if (!opened.stream) throw new Error(`The tap was refused: ${opened.status} ${JSON.stringify(opened.error)}`);
    await opened.stream.waitFor((e) => e.type === 'started');
    return opened.stream;
  }

  /** The `started` event's data. */
  get started(): any {
    return this.events.find((e) => e.type === 'started')?.data;
  }

  /** The frames received so far. */
  frames(): any[] {
    return this.events.filter((e) => e.type === 'frame').map((e) => e.data);
  }

  /** Waits for an event matching `match` (already received or still to come). */
  async waitFor(match: (e: TapStreamEvent) => boolean, timeoutMs = 5000, what = 'a tap event'): Promise<TapStreamEvent> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.ended.then(() => (ended = true));
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (ended) throw new Error(`The tap stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the `stopped` event and returns its data. */
  async stopped(timeoutMs = 5000): Promise<any> {
    return (await this.waitFor((e) => e.type === 'stopped', timeoutMs, 'the stopped event')).data;
  }

  /** Closes the request (the tap stops on the server). */
  close(): void {
    this.#abort.abort();
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        this.bytes += chunk.length;
        buffer += decoder.decode(chunk, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) this.#parse(block);
        this.#wake();
      }
    } catch {
      // Aborted by close(), or the server dropped the connection: the stream has ended either way.
    }
  }

  #parse(block: string): void {
    let type = 'message';
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) type = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (data !== undefined) this.events.push({ type, data: JSON.parse(data) });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
