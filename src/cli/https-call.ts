// An HTTPS request trusting a given CA: Node 20's fetch() takes no CA, so a self-signed admin goes through node:https.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

/** What the CLI reads of an answer. */
export interface PlainResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  text(): Promise<string>;
}

/** Largest answer read: an export of a big config is well under this. */
const MAX_BODY = 64 * 1024 * 1024;

/** Sends one request to an https:// URL, trusting the PEM certificates in `caFile` (host name checked as usual). */
export function httpsCall(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  caFile: string,
): Promise<PlainResponse> {
  const ca = readFileSync(caFile);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) return void req.destroy(new Error(`the answer is over ${MAX_BODY} bytes`));
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ ok: status >= 200 && status < 300, status, statusText: res.statusMessage ?? '', text: async () => body });
      });
    });
    // fetch() puts the socket's error in `cause`; so does this, for the same "Cannot reach" message.
    req.on('error', (err) => reject(new Error('request failed', { cause: err })));
    req.end(init.body);
  });
}
