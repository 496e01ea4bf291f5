import { WebSocketServer, type WebSocket } from 'ws';

/** A plain `ws` server standing in for a remote that is not Switchboard: records what it receives. */
export class PlainRemote {
  readonly received: string[] = [];
  readonly sockets = new Set<WebSocket>();
  readonly port: number;
  #wss: WebSocketServer | undefined;
  connections = 0;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(port: number, onMessage?: (ws: WebSocket, text: string) => void): Promise<PlainRemote> {
    const remote = new PlainRemote(port);
    await remote.listen(onMessage);
    return remote;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/remote`;
  }

  listen(onMessage?: (ws: WebSocket, text: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ port: this.port, host: '127.0.0.1' });
      wss.once('error', reject);
      wss.once('listening', () => resolve());
      wss.on('connection', (ws) => {
        this.connections += 1;
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('error', () => undefined);
        ws.on('message', (data) => {
          const text = data.toString();
          this.received.push(text);
          onMessage?.(ws, text);
        });
      });
      this.#wss = wss;
    });
  }

  /** Sends to every connected client. */
  broadcast(data: string): void {
    for (const ws of this.sockets) ws.send(data);
  }

  /** Stops listening and drops every connection (like a killed process). */
  async kill(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => (this.#wss ? this.#wss.close(() => resolve()) : resolve()));
    this.#wss = undefined;
  }
}
