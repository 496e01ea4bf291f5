// The floor: the least a Node server can do per echoed JSON message. The upgrade and the frames are done by hand on
// the raw socket (no ws, no streams beyond net's own), the replies of one read leave in one write. Not a usable
// server — it answers only what the bench's generator sends (unfragmented text frames) and drops the connection on a
// close or bad JSON — but what it costs per message is what the kernel and Node's socket layer cost: a server doing
// real work can approach it, not pass it (docs/benchmarks.md, "The floor").
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { parseFrames, serverFrame } from '../lib/raw-frames.mjs';

const port = Number(process.argv[2]);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

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
    const replies = [];
    try {
      rest = parseFrames(rest?.length ? Buffer.concat([rest, chunk]) : chunk, (opcode, payload) => {
        if (opcode === 0x8) throw new Error('close');
        if (opcode === 0x1) replies.push(serverFrame(JSON.stringify(JSON.parse(payload.toString()))));
      });
    } catch {
      return socket.destroy();
    }
    if (replies.length) socket.write(replies.length === 1 ? replies[0] : Buffer.concat(replies));
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
