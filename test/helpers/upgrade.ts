// A WebSocket upgrade as a client sees it: open, or refused with an HTTP status and the server's error code.
import { WebSocket } from 'ws';

/** An upgrade that is refused: its HTTP status, headers and error code. */
export function refusedUpgrade(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<{ status: number; retryAfter: string | undefined; code: string } | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          code: (JSON.parse(body) as { error: { code: string } }).error.code,
        }),
      );
    });
    ws.once('error', reject);
  });
}
