import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import SQLite from 'better-sqlite3';

/** Releases a {@link lockDatabaseFile} lock. */
export type ReleaseLock = () => void;

interface Held {
  readonly lock: SQLite.Database;
  count: number;
}

// Stores of one process share its lock: only another process is a second server.
const held = new Map<string, Held>();

/**
 * Makes this process the only one using a SQLite database file: two servers on one file would each keep their own
 * pub/sub state and hand out the same sequence numbers (clustering needs PostgreSQL). The lock is SQLite's own
 * exclusive lock on `<file>.lock`, which the operating system drops when the process ends, so a stale lock of a
 * `kill -9`ed server never blocks its restart. The holder's pid is kept in that file's header (`user_version`).
 */
export function lockDatabaseFile(file: string): ReleaseLock {
  const lockFile = `${resolve(file)}.lock`;
  const existing = held.get(lockFile);
  if (existing) existing.count += 1;
  else held.set(lockFile, { lock: acquire(file, lockFile), count: 1 });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const entry = held.get(lockFile);
    if (!entry || --entry.count > 0) return;
    held.delete(lockFile);
    entry.lock.close();
  };
}

function acquire(file: string, lockFile: string): SQLite.Database {
  const lock = new SQLite(lockFile, { timeout: 0 });
  try {
    // Exclusive mode keeps the lock taken by the first write until the connection closes.
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma(`user_version = ${process.pid}`);
    return lock;
  } catch (err) {
    lock.close();
    if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
    const pid = holderPid(lockFile);
    throw new Error(
      `The database ${file} is in use by another Switchboard server${pid ? ` (pid ${pid})` : ''}: two servers cannot ` +
        `share one SQLite file (a cluster needs PostgreSQL: SWITCHBOARD_DB=postgres://…). Lock: ${lockFile}`,
      { cause: err },
    );
  }
}

// SQLite's header keeps user_version at bytes 60–63, big-endian. The holder's lock does not stop a plain read.
function holderPid(lockFile: string): number | undefined {
  const fd = openSync(lockFile, 'r');
  try {
    const header = Buffer.alloc(4);
    return readSync(fd, header, 0, 4, 60) === 4 ? header.readUInt32BE(0) || undefined : undefined;
  } finally {
    closeSync(fd);
  }
}
