// The floor: the least a Node server can do per echoed JSON message. The upgrade and the frames are done by hand on
// the raw socket (no ws, no streams beyond net's own), the replies of one read leave in one write. Not a usable
// server — it answers only what the bench's generator sends (masked, unfragmented text frames under 64 KiB) and
// drops the connection on anything else — but what it costs per message is what the kernel and Node's socket
// layer cost: a server doing real work can approach it, not pass it (docs/benchmarks.md, "The floor").
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked server text frame holding `text`. */
function textFrame(text) {
  const n = Buffer.byteLength(text);
  const head = n < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(head + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  }
  frame.write(text, head, 'utf8');
  return frame;
}

/** Echoes every whole frame in `buf` into `replies`; returns where the unread rest starts, or -1 on a frame it refuses. */
function echoFrames(buf, replies) {
  let off = 0;
  while (buf.length - off >= 6) {
    const opcode = buf[off] & 0x0f;
    let len = buf[off + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - off < 8) break;
      len = buf.readUInt16BE(off + 2);
      head = 4;
    } else if (len === 127 || (buf[off] & 0x80) === 0 || (buf[off + 1] & 0x80) === 0) return -1;
    const mask = off + head;
    const start = mask + 4;
    if (buf.length < start + len) break;
    off = start + len;
    if (opcode === 0x8) return -1;
    if (opcode !== 0x1) continue;
    const payload = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) payload[i] = buf[start + i] ^ buf[mask + (i & 3)];
    replies.push(textFrame(JSON.stringify(JSON.parse(payload.toString()))));
  }
  return off;
}

const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', (req, socket) => {
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  let rest;
  socket.on('data', (chunk) => {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    const replies = [];
    let used;
    try {
      used = echoFrames(buf, replies);
    } catch {
      used = -1;
    }
    if (used < 0) return socket.destroy();
    rest = used === buf.length ? undefined : buf.subarray(used);
    if (replies.length) socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies));
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
