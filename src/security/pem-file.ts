// Reading a PEM file named in the config (a channel's or the admin's TLS files, an outgoing connection's CA).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ValidationError } from '../errors/index.js';

/** The largest PEM file read: a certificate chain or key is a few KiB, so anything bigger is not one. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads a PEM file given in the config: a regular file of at most MAX_PEM_BYTES, else a 400 naming `field`. The
 * read is synchronous, so a FIFO (whose open waits for a writer), a device such as /dev/zero (never ending) or a
 * huge file would stall the whole process: the file is opened without blocking and checked before it is read.
 */
export function readPemFile(file: string, field: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('not a regular file');
    if (stats.size > MAX_PEM_BYTES) throw new Error(`${stats.size} bytes, over the ${MAX_PEM_BYTES} a PEM file may have`);
    const data = Buffer.alloc(stats.size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return data.subarray(0, read);
  } catch (err) {
    throw new ValidationError('invalid_input', `Cannot read ${field} ${file}: ${(err as Error).message}`, { field });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
