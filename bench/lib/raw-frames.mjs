// RFC 6455 framing, just enough for the benches' raw-TCP peers (the load generator, the connection holders, the echo
// bench's floor server): masked client frames and unmasked server frames, built and parsed out of a buffer.
import { randomBytes } from 'node:crypto';

/** A masked client frame (opcode 0x1 text by default; 0xa a pong) of `payload` (a string or bytes, < 64 KiB). */
export function maskedFrame(payload, opcode = 0x1) {
  const masked = Buffer.from(payload);
  const len = checkedLength(masked.length);
  const header =
    len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const key = randomBytes(4);
  for (let i = 0; i < len; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** An unmasked server text frame of `text` (< 64 KiB). */
export function serverFrame(text) {
  const len = checkedLength(Buffer.byteLength(text));
  const head = len < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(head + len);
  frame[0] = 0x81;
  if (len < 126) frame[1] = len;
  else {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  }
  frame.write(text, head, 'utf8');
  return frame;
}

/**
 * Parses whole frames out of `buf` — a server's unmasked ones, or a client's masked ones (unmasked into a copy) —
 * calls onFrame(opcode, payload) for each; returns the rest (maybe empty).
 */
export function parseFrames(buf, onFrame) {
  let offset = 0;
  for (;;) {
    if (buf.length - offset < 2) break;
    const masked = (buf[offset + 1] & 0x80) !== 0;
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
    const start = offset + head + (masked ? 4 : 0);
    if (buf.length < start + len) break;
    onFrame(buf[offset] & 0x0f, masked ? unmasked(buf, offset + head, start, len) : buf.subarray(start, start + len));
    offset = start + len;
  }
  return offset === buf.length ? Buffer.alloc(0) : buf.subarray(offset);
}

// Both builders write at most a 16-bit length: a longer payload would go out as a corrupt frame, silently.
function checkedLength(len) {
  if (len > 0xffff) throw new RangeError(`raw-frames builds frames under 64 KiB, not ${len} bytes`);
  return len;
}

function unmasked(buf, mask, start, len) {
  const payload = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) payload[i] = buf[start + i] ^ buf[mask + (i & 3)];
  return payload;
}
