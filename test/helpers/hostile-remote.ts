import { WebSocketServer, type WebSocket } from 'ws';

/** A frame a Zato client sent to the hostile remote (parsed JSON; `undefined` fields when it was not an object). */
export interface ClientFrame {
  meta: { action?: string; id?: string; token?: string; in_reply_to?: string; [key: string]: unknown };
  data?: unknown;
}

/** What the remote answers a `create-session` with: a raw frame, or `undefined` to stay silent. */
export type SessionAnswer = (request: ClientFrame) => string | Buffer | undefined;

/** The answer of a Zato 3.2 server that grants the session. */
export const grantSession: SessionAnswer = (request) =>
  JSON.stringify({
    meta: { id: 'srv.1', timestamp: '', msg_type: 'zwsx.rspa', status: 200, in_reply_to: request.meta.id },
    data: { token: 'zwsxt.hostile' },
  });

/**
 * A Zato-like remote that an outgoing connection calls, scripted to misbehave: it answers (or not) create-session
 * as `session` says, echoes `invoke-service` requests unless `onInvoke` says otherwise, and lets a test push any
 * raw frame (text or binary) to the connected clients.
 */
export class HostileRemote {
  readonly sockets = new Set<WebSocket>();
  readonly received: ClientFrame[] = [];
  connections = 0;
  session: SessionAnswer = grantSession;
  /** Answers an invoke-service; `undefined` leaves it unanswered. Echoes `data` in a `zwsx.rspok` by default. */
  onInvoke: (ws: WebSocket, request: ClientFrame) => void = (ws, request) =>
    ws.send(
      JSON.stringify({
        meta: { id: 'srv.r', timestamp: '', msg_type: 'zwsx.rspok', status: 200, in_reply_to: request.meta.id },
        data: request.data,
      }),
    );
  readonly #wss: WebSocketServer;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
  }

  static start(): Promise<HostileRemote> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * 1024 * 1024 });
      const remote = new HostileRemote(wss);
      wss.once('error', reject);
      wss.once('listening', () => resolve(remote));
      wss.on('connection', (ws) => remote.#accept(ws));
    });
  }

  get url(): string {
    const address = this.#wss.address();
    return `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hostile`;
  }

  /** Sends a raw frame to every connected client. */
  broadcast(frame: string | Buffer, binary = false): void {
    for (const ws of this.sockets) ws.send(frame, { binary });
  }

  /** Waits until a client has a session (has sent create-session and been answered). */
  get sessions(): number {
    return this.received.filter((f) => f.meta.action === 'create-session').length;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    this.connections += 1;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      let frame: ClientFrame;
      try {
        frame = JSON.parse(data.toString()) as ClientFrame;
      } catch {
        return;
      }
      if (typeof frame !== 'object' || frame === null || typeof frame.meta !== 'object') return;
      this.received.push(frame);
      if (frame.meta.action === 'create-session') {
        const answer = this.session(frame);
        if (answer !== undefined) ws.send(answer);
      } else if (frame.meta.action === 'invoke-service') {
        this.onInvoke(ws, frame);
      }
    });
  }
}
