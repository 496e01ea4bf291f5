import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import zlib, { constants, createDeflateRaw } from 'node:zlib';
import { ZLIB_CONCURRENCY } from '../src/channels/wsx/compression.js';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { TestClient } from './helpers/wsx-client.js';
import { createChannel, startTestServer, type TestServer } from './helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

/** `bytes` of zeros as one raw-deflate stream ending in a sync flush, without its 00 00 ff ff tail (RFC 7692). */
function deflatedZeros(bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const deflate = createDeflateRaw();
    const out: Buffer[] = [];
    deflate.on('data', (c: Buffer) => out.push(c));
    const chunk = Buffer.alloc(1024 * 1024);
    for (let left = bytes; left > 0; left -= chunk.length) deflate.write(chunk);
    deflate.flush(constants.Z_SYNC_FLUSH, () => {
      const all = Buffer.concat(out);
      resolve(all.subarray(0, all.length - 4));
    });
  });
}

/** A masked client frame with any header bits (RSV1 = compressed, FIN, opcode). */
function frame(payload: Buffer, { fin, rsv1, opcode }: { fin: boolean; rsv1: boolean; opcode: number }): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65536 ? 4 : 10);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const key = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < len; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([head, key, masked]);
}

/** Opens a deflate connection and writes `frames` under ws; resolves with the close code and the peak memory growth. */
async function sendBomb(url: string, frames: Buffer[]): Promise<{ code: number; growthMiB: number }> {
  const ws = new WebSocket(url, { perMessageDeflate: { clientNoContextTakeover: true } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  assert.match(ws.extensions, /permessage-deflate/);
  const base = process.memoryUsage();
  let peak = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss - base.rss, m.arrayBuffers - base.arrayBuffers);
  };
  const sampler = setInterval(sample, 2);
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  for (const f of frames) socket.write(f);
  const code = await closed;
  sample();
  clearInterval(sampler);
  return { code, growthMiB: peak / (1024 * 1024) };
}

describe('compression', () => {
  test('negotiated when the channel has compression, not when it has not; clients without deflate still work', async () => {
    const on = await createChannel(server, { name: 'deflate-on', service: 'zato.helpers.echo', compression: true });
    const off = await createChannel(server, { name: 'deflate-off', service: 'zato.helpers.echo' });
    const a = await TestClient.connect(on);
    const b = await TestClient.connect(off);
    const zato = await TestClient.connect(on, { perMessageDeflate: false });
    assert.match(a.ws.extensions, /permessage-deflate/);
    assert.equal(b.ws.extensions, '');
    assert.equal(zato.ws.extensions, '');
    await zato.createSession();
    assert.deepEqual((await zato.invoke({ a: 1 })).data, { a: 1 });
    for (const c of [a, b, zato]) c.close();
  });

  test('a plain echo works compressed, and the reply is compressed on the wire', async () => {
    const url = await createChannel(server, {
      name: 'deflate-echo',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      dataFormat: 'json',
      compression: true,
    });
    const client = await TestClient.connect(url);
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    const message = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: 'the same words again' })) };
    const text = JSON.stringify(message);
    const readBefore = socket.bytesRead;
    client.send(text);
    assert.deepEqual(JSON.parse(await client.nextText()), message);
    assert.ok(socket.bytesRead - readBefore < text.length / 4, `${socket.bytesRead - readBefore} bytes for ${text.length}`);
    client.close();
  });

  test('a decompression bomb (256 MiB of zeros in one message) is closed with 1009 in bounded memory', async () => {
    const url = await createChannel(server, { name: 'bomb', service: 'zato.helpers.echo', protocol: 'plain', compression: true });
    const bomb = await deflatedZeros(256 * 1024 * 1024);
    assert.ok(bomb.length < 1024 * 1024, 'the compressed message is under maxMessageSize');
    const { code, growthMiB } = await sendBomb(url, [frame(bomb, { fin: true, rsv1: true, opcode: 0x2 })]);
    assert.equal(code, 1009);
    assert.ok(growthMiB < 64, `memory grew ${growthMiB.toFixed(1)} MiB (inflating it whole would be 256 MiB)`);
  });

  test('a fragmented bomb (each fragment under the limit, the message over it) is closed with 1009 in bounded memory', async () => {
    const url = await createChannel(server, {
      name: 'bomb-frag',
      service: 'zato.helpers.echo',
      protocol: 'plain',
      compression: true,
    });
    const bomb = await deflatedZeros(256 * 1024 * 1024);
    // ~512 fragments of ~512 KiB inflated each: no single frame trips the limit, their sum does.
    const size = Math.ceil(bomb.length / 512);
    const frames: Buffer[] = [];
    for (let at = 0, i = 0; at < bomb.length; at += size, i++) {
      const last = at + size >= bomb.length;
      frames.push(frame(bomb.subarray(at, at + size), { fin: last, rsv1: i === 0, opcode: i === 0 ? 0x2 : 0x0 }));
    }
    const { code, growthMiB } = await sendBomb(url, frames);
    assert.equal(code, 1009);
    assert.ok(growthMiB < 64, `memory grew ${growthMiB.toFixed(1)} MiB`);
  });

  test(`at most ${ZLIB_CONCURRENCY} zlib jobs run at once in the process, though a ws client (deflate by default) came first`, async () => {
    // ws makes one limiter per process, with the concurrencyLimit of the first PerMessageDeflate made. In this
    // process the test's own ws clients (which offer deflate by default) connect before any server-side one exists.
    // Every zlib stream ws makes is watched: a job runs from its first write to its flush's callback.
    let active = 0;
    let peak = 0;
    const originals = { createInflateRaw: zlib.createInflateRaw, createDeflateRaw: zlib.createDeflateRaw };
    const watch = <T extends zlib.InflateRaw | zlib.DeflateRaw>(stream: T): T => {
      let busy = false;
      const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
      const flush = stream.flush.bind(stream) as (...a: unknown[]) => void;
      (stream as { write: unknown }).write = (...args: unknown[]) => {
        if (!busy) [busy, active, peak] = [true, active + 1, Math.max(peak, active + 1)];
        return write(...args);
      };
      (stream as { flush: unknown }).flush = (...args: unknown[]) => {
        const at = args.findIndex((a) => typeof a === 'function');
        const done = args[at] as () => void;
        args[at] = () => {
          if (busy) [busy, active] = [false, active - 1];
          done();
        };
        flush(...args);
      };
      return stream;
    };
    // zlib's factories are read-only but configurable; ws calls them through the same module object.
    const replace = (values: Record<string, unknown>): void => {
      for (const [name, value] of Object.entries(values))
        Object.defineProperty(zlib, name, { value, configurable: true, enumerable: true });
    };
    replace({
      createInflateRaw: (o?: zlib.ZlibOptions) => watch(originals.createInflateRaw(o)),
      createDeflateRaw: (o?: zlib.ZlibOptions) => watch(originals.createDeflateRaw(o)),
    });
    try {
      const url = await createChannel(server, {
        name: 'deflate-jobs',
        service: 'zato.helpers.echo',
        protocol: 'plain',
        compression: true,
      });
      const clients = await Promise.all(Array.from({ length: 12 }, () => TestClient.connect(url)));
      const text = JSON.stringify(Array.from({ length: 8000 }, (_, i) => ({ id: i, name: 'the same words again' })));
      for (const c of clients) for (let i = 0; i < 3; i++) c.send(text);
      for (const c of clients) for (let i = 0; i < 3; i++) assert.equal((await c.nextText()).length, text.length);
      for (const c of clients) c.close();
      assert.ok(peak >= 1, 'zlib streams were watched');
      assert.ok(peak <= ZLIB_CONCURRENCY, `${peak} zlib jobs ran at once`);
    } finally {
      replace(originals);
    }
  });

  test('toggling compression live applies to new connections; open ones keep what they negotiated', async () => {
    const url = await createChannel(server, { name: 'deflate-live', service: 'zato.helpers.echo', protocol: 'plain' });
    const first = await TestClient.connect(url);
    assert.equal(first.ws.extensions, '');
    const config = (await server.api('GET', '/api/channels/wsx/deflate-live')).body as Record<string, unknown>;
    delete config.runtime;
    assert.equal((await server.api('PUT', '/api/channels/wsx/deflate-live', { ...config, compression: true })).status, 200);
    const second = await TestClient.connect(url);
    assert.match(second.ws.extensions, /permessage-deflate/);
    first.send('still here');
    assert.equal(await first.nextText(), 'still here');
    assert.equal((await server.api('PUT', '/api/channels/wsx/deflate-live', { ...config, compression: false })).status, 200);
    const third = await TestClient.connect(url);
    assert.equal(third.ws.extensions, '');
    for (const c of [first, second, third]) c.close();
  });
});
