import * as ws from 'ws';
import type { PerMessageDeflateOptions } from 'ws';

/**
 * Concurrent zlib jobs (inflate or deflate) in the whole process. ws keeps ONE limiter per process, made with the
 * `concurrencyLimit` of the first PerMessageDeflate it creates (lib/permessage-deflate.js), so every channel passes
 * the same number. zlib runs on libuv's thread pool (4 threads by default), which password hashing (scrypt) and
 * file I/O share: 2 leaves them room while compressed messages queue.
 */
export const ZLIB_CONCURRENCY = 2;

/**
 * permessage-deflate as a channel with `compression: true` offers it (docs/security.md, "Compression"). No context
 * takeover either way (each message is compressed on its own, so no window carries over between messages), a 1 KiB
 * window and memLevel 4 for what we compress (the same 337 bytes as memLevel 6 or 8 for a 2 KiB JSON order, with a
 * quarter of the hash table), and messages under 1 KiB are sent uncompressed. The client's window cannot be forced
 * smaller without refusing clients that do not offer client_max_window_bits, so inflating keeps zlib's 32 KiB.
 * `maxPayload` (the channel's maxMessageSize) is applied by ws to the inflated size. What it costs, measured by
 * `npm run bench -- compression` (docs/benchmarks.md): about 100 KiB of RSS per connection that has exchanged a
 * message (memLevel 6 was ~10 KiB more), and several times the server CPU per message of an uncompressed echo.
 */
export const DEFLATE_OPTIONS: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 10,
  threshold: 1024,
  concurrencyLimit: ZLIB_CONCURRENCY,
  zlibDeflateOptions: { memLevel: 4 },
};

// ws's PerMessageDeflate, which its types do not declare (ws exports it all the same).
const { PerMessageDeflate } = ws as unknown as { PerMessageDeflate: new (options: PerMessageDeflateOptions) => unknown };

// ws's limiter takes the concurrencyLimit of the first PerMessageDeflate in the process, whoever makes it: a ws client
// offers deflate by default (with a limit of 10), and services or an embedding program may open one before any client
// of a compressed channel arrives. Making one here, when the channels are loaded, makes the limit ours.
new PerMessageDeflate({ concurrencyLimit: ZLIB_CONCURRENCY });
