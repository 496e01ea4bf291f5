import { WebSocket, type ClientOptions } from 'ws';

/** A received frame, parsed. */
export interface Frame {
  meta: {
    id: string;
    msg_type: string;
    status?: number;
    in_reply_to?: string;
    error_message?: string;
    code?: string;
    timestamp: string;
  };
  data?: any;
}

/**
 * A real WebSocket client for tests: queues what it receives so a test can `await next()`, and speaks
 * enough WSX to create a session and invoke services.
 */
export class TestClient {
  readonly ws: WebSocket;
  readonly received: Array<{ data: Buffer; isBinary: boolean }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly pings: Buffer[] = [];
  token: string | undefined;
  #waiters: Array<() => void> = [];
  #seq = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      this.received.push({ data: data as Buffer, isBinary });
      for (const w of this.#waiters.splice(0)) w();
    });
    ws.on('ping', (data) => this.pings.push(data));
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.#waiters.splice(0)) w();
      }),
    );
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** The next received message as text, waiting up to `timeoutMs`. */
  async nextRaw(timeoutMs = 3000): Promise<{ data: Buffer; isBinary: boolean }> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('Connection closed while waiting for a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('Timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received.shift()!;
  }

  async nextText(timeoutMs?: number): Promise<string> {
    return (await this.nextRaw(timeoutMs)).data.toString('utf8');
  }

  async next(timeoutMs?: number): Promise<Frame> {
    return JSON.parse(await this.nextText(timeoutMs)) as Frame;
  }

  /** Waits for the frame replying to `id` (other frames are kept in order for later). */
  reply(id: string, timeoutMs = 3000): Promise<Frame> {
    return this.#waitFrame((f) => f.meta?.in_reply_to === id, `a reply to ${id}`, timeoutMs);
  }

  async #waitFrame(match: (frame: Frame) => boolean, what: string, timeoutMs: number): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex((r) => {
        try {
          return match(JSON.parse(r.data.toString()) as Frame);
        } catch {
          return false;
        }
      });
      if (index >= 0) return JSON.parse(this.received.splice(index, 1)[0]!.data.toString()) as Frame;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`Connection closed while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(data: unknown): void {
    this.ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
  }

  newId(prefix = 'm'): string {
    return `${prefix}${++this.#seq}`;
  }

  /**
   * Sends create-session and resolves with the outcome (and keeps the token): the `zwsx.rspa` replying to it,
   * or a refusal, which (as in Zato 3.2) is a `zwsx.merr` without `in_reply_to`.
   */
  async createSession(meta: Record<string, unknown> = {}): Promise<Frame> {
    const id = this.newId('c');
    this.send({ meta: { action: 'create-session', id, timestamp: new Date().toISOString(), ...meta } });
    const frame = await this.#waitFrame(
      (f) => f.meta?.in_reply_to === id || (f.meta?.msg_type === 'zwsx.merr' && f.meta.in_reply_to === undefined),
      `the outcome of create-session ${id}`,
      3000,
    );
    if (frame.meta.msg_type === 'zwsx.rspa') this.token = frame.data.token;
    return frame;
  }

  /** Sends invoke-service with `data` and resolves with the reply frame. */
  async invoke(data: unknown, meta: Record<string, unknown> = {}): Promise<Frame> {
    const id = this.newId('i');
    this.send({ meta: { action: 'invoke-service', id, timestamp: new Date().toISOString(), token: this.token, ...meta }, data });
    return this.reply(id);
  }

  /** Invokes a service through a gateway channel. */
  gateway(service: string, request?: unknown): Promise<Frame> {
    return this.invoke({ service, request });
  }

  close(): void {
    this.ws.close();
  }
}
