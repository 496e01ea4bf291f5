// RFC 6455 framing, just enough for the benches' raw-TCP clients (the load generator, the connection holders): a
// masked client frame, and the server's unmasked frames parsed out of a buffer.
import { randomBytes } from 'node:crypto';

/** A masked client frame (opcode 0x1 text by default; 0xa a pong) of `payload` (a string or bytes, < 64 KiB). */
export function maskedFrame(payload, opcode = 0x1) {
  const masked = Buffer.from(payload);
  const len = masked.length;
  const header =
    len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const key = randomBytes(4);
  for (let i = 0; i < len; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** Parses whole server frames out of `buf`, calls onFrame(opcode, payload) for each; returns the rest (maybe empty). */
export function parseFrames(buf, onFrame) {
  let offset = 0;
  for (;;) {
    if (buf.length - offset < 2) break;
    let len = buf[offset + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - offset < 4) break;
      len = buf.readUInt16BE(offset + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - offset < 10) break;
      len = Number(buf.readBigUInt64BE(offset + 2));
      head = 10;
    }
    if (buf.length - offset < head + len) break;
    onFrame(buf[offset] & 0x0f, buf.subarray(offset + head, offset + head + len));
    offset += head + len;
  }
  return offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
}
