import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError } from '../errors/index.js';

/** What a marker holds: the file being imported and the hash of its compiled code. */
export interface ImportMarker {
  readonly file: string;
  readonly hash: string;
  readonly startedAt: string;
  readonly pid: number;
}

/**
 * The crash-loop guard of hot deployment: a marker is kept on disk while a file is imported. A marker left by a
 * process that died during the import makes the next start skip that file (while its compiled code is the same),
 * so one file cannot crash-loop the server. Without a directory, nothing is kept and nothing is skipped.
 */
export class ImportMarkers {
  readonly #dir: string | undefined;
  // Files whose import was running when an earlier process died, found at start: file → marker.
  readonly #suspects = new Map<string, ImportMarker>();

  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  /** Reads the markers an earlier process left. */
  async read(): Promise<void> {
    const dir = this.#dir;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const marker = JSON.parse(await readFile(join(dir, name), 'utf8')) as ImportMarker;
        if (typeof marker.file === 'string' && typeof marker.hash === 'string') this.#suspects.set(marker.file, marker);
      } catch {
        // A marker cut short by the crash itself: it names no file, so there is nothing to skip.
        await rm(join(dir, name), { force: true });
      }
    }
  }

  /** Drops the markers of files that no longer exist. */
  async forgetGone(files: ReadonlySet<string>): Promise<void> {
    for (const file of [...this.#suspects.keys()]) {
      if (files.has(file)) continue;
      await this.forget(file);
    }
  }

  /** At start: throws `deploy_skipped` for a file whose unchanged code was being imported when a process died. */
  refuseSuspect(file: string, hash: string): void {
    const marker = this.#suspects.get(file);
    if (!marker) return;
    if (marker.hash !== hash) {
      this.#suspects.delete(file);
      return;
    }
    throw new SwitchboardError(
      'deploy_skipped',
      `Skipped: the server stopped (crashed, was killed, or its event loop was blocked) while importing this file at ${marker.startedAt}; change the file to try it again`,
    );
  }

  /** A save after start is the user asking for the file to be tried again. */
  retry(file: string): void {
    this.#suspects.delete(file);
  }

  /** The file is gone: nothing to skip any more. */
  async forget(file: string): Promise<void> {
    this.#suspects.delete(file);
    await this.drop(file);
  }

  /** Marks `marker.file` as being imported now. */
  async write(marker: ImportMarker): Promise<void> {
    const path = this.#pathOf(marker.file);
    if (path) await writeFile(path, JSON.stringify(marker));
  }

  /** The import finished (or failed without killing the process). */
  async drop(file: string): Promise<void> {
    // A skipped file keeps its marker, so that it stays skipped at the next start too, until it changes.
    const path = this.#pathOf(file);
    if (path && !this.#suspects.has(file)) await rm(path, { force: true });
  }

  #pathOf(file: string): string | undefined {
    return this.#dir ? join(this.#dir, `${createHash('sha1').update(file).digest('hex')}.json`) : undefined;
  }
}
