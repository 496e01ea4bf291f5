import type { Logger } from 'pino';
import type { ClusterRepository, ConfigChange, Store } from '../store/index.js';

/** What a server keeps of each config object: the body as stored, to tell what changed. */
type Seen = Map<string, string>;

/** How long `config_change` keeps rows (cluster-notes §3.4): a server away longer reconciles everything instead. */
export const CHANGE_RETENTION_MS = 60 * 60 * 1000;

const PAGE = 500;
const UNREADABLE = Symbol('unreadable');

/**
 * Applies config written through other servers (cluster-notes §3.5). Every server reads `config_change` from its
 * cursor when a NOTIFY wakes it and at least every `pollMs`, and re-announces each change on its own store as a
 * `ConfigChange` — what the parts already follow, so they apply a remote change exactly as a local one. What a server
 * announces is the difference between the stored body and the one it last saw, so its own writes (already applied)
 * and changes read twice are no-ops, and concurrent writes on two servers end in the same state on both.
 */
export class ConfigFanout {
  readonly #store: Store;
  readonly #repo: ClusterRepository;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #announce: () => void;
  readonly #seen: Seen = new Map();
  #cursor = 0;
  #lastRead = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #again = false;
  #reconcileWanted = false;
  #busy = false;
  #closed = false;
  #failures = 0;
  #applied = 0;

  readonly #onLocal = (change: ConfigChange) => {
    if (change.remote) return;
    this.#remember(change);
    // After the commit, as its own statement (cluster-notes §2): a lost NOTIFY costs only the poll's delay.
    this.#announce();
  };

  constructor(options: { store: Store; repository: ClusterRepository; logger: Logger; pollMs: number; announce: () => void }) {
    this.#store = options.store;
    this.#repo = options.repository;
    this.#log = options.logger;
    this.#pollMs = options.pollMs;
    this.#announce = options.announce;
  }

  /** Changes applied from other servers since start (for tests and metrics). */
  get applied(): number {
    return this.#applied;
  }

  /**
   * Reads the cursor, then every config object, before the parts load theirs: a change committed in between is read
   * again from the cursor and, being newer than what was seen, applied (Centrifugo's pre-read cursor).
   */
  async prepare(): Promise<void> {
    this.#cursor = await this.#repo.latestChangeId();
    for (const row of await this.#repo.configObjects()) this.#seen.set(key(row.kind, row.name), row.body);
    this.#store.on('change', this.#onLocal);
  }

  /** Starts polling (call once the parts have loaded their config). */
  start(): void {
    this.#schedule(this.#pollMs);
  }

  /** Reads new changes now (a NOTIFY arrived). */
  wake(): void {
    this.#run(() => this.#readChanges());
  }

  /** Compares every stored object with what was seen (after a re-LISTEN or a long absence). */
  reconcile(): void {
    this.#reconcileWanted = true;
    this.#run(() => this.#readChanges());
  }

  /** Resolves once what is queued has run. */
  settled(): Promise<void> {
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#store.off('change', this.#onLocal);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.wake(), ms);
    this.#timer.unref();
  }

  // One read at a time; wake-ups during a read run one more read after it, not one each.
  #run(task: () => Promise<void>): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#running = (async () => {
      try {
        await task();
        while (this.#again && !this.#closed) {
          this.#again = false;
          await this.#readChanges();
        }
        if (this.#failures) this.#log.info('Reading config changes works again');
        this.#failures = 0;
      } catch (err) {
        if (this.#failures++ === 0) this.#log.error({ err }, 'Reading config changes failed; retrying on every poll');
      } finally {
        this.#busy = false;
        this.#schedule(this.#pollMs);
      }
    })();
  }

  async #readChanges(): Promise<void> {
    if (this.#reconcileWanted || Date.now() - this.#lastRead > CHANGE_RETENTION_MS / 2) {
      this.#reconcileWanted = false;
      await this.#reconcile();
    }
    for (;;) {
      const changes = await this.#repo.changesAfter(this.#cursor, PAGE);
      for (const change of changes) {
        if (change.newName !== null) await this.#rename(change.kind, change.name, change.newName);
        await this.#sync(change.kind, change.newName ?? change.name);
        this.#cursor = change.id;
      }
      this.#lastRead = Date.now();
      if (changes.length < PAGE) return;
    }
  }

  async #reconcile(): Promise<void> {
    const cursor = await this.#repo.latestChangeId();
    const stored = await this.#repo.configObjects();
    const names = new Set([...this.#seen.keys(), ...stored.map((r) => key(r.kind, r.name))]);
    for (const k of names) {
      const [kind, name] = unkey(k);
      await this.#sync(kind, name);
    }
    this.#cursor = Math.max(this.#cursor, cursor);
    this.#lastRead = Date.now();
  }

  // A rename is announced as the update it was (the parts restart what they run under the old name).
  async #rename(kind: string, from: string, to: string): Promise<void> {
    const before = this.#seen.get(key(kind, from));
    if (before === undefined) return;
    if ((await this.#repo.configObject(kind, from)) !== undefined) return;
    const after = await this.#repo.configObject(kind, to);
    if (after === undefined) return;
    this.#seen.delete(key(kind, from));
    this.#emit(
      { kind, op: 'update', name: from, previous: JSON.parse(before), current: JSON.parse(after), remote: true },
      to,
      after,
    );
  }

  async #sync(kind: string, name: string): Promise<void> {
    const before = this.#seen.get(key(kind, name));
    const after = await this.#repo.configObject(kind, name);
    if (before === after) return;
    const current = after === undefined ? undefined : this.#parse(kind, name, after);
    if (current === UNREADABLE) {
      // Remembered, so that it is reported once and the changes after it still apply.
      this.#seen.set(key(kind, name), after!);
      return;
    }
    const previous = before === undefined ? undefined : this.#parse(kind, name, before);
    const op = before === undefined ? 'create' : after === undefined ? 'delete' : 'update';
    this.#emit({ kind, op, name, previous: previous === UNREADABLE ? undefined : previous, current, remote: true }, name, after);
  }

  // A body no server wrote (edited by hand, or by a newer version) must not stop the changes behind it.
  #parse(kind: string, name: string, body: string): unknown {
    try {
      return JSON.parse(body);
    } catch (err) {
      this.#log.error({ err, kind, name }, 'A stored config object is not JSON; it is ignored until it changes');
      return UNREADABLE;
    }
  }

  // What was seen becomes the stored body itself, byte for byte, so that the next comparison is exact.
  #emit(change: ConfigChange, name: string, body: string | undefined): void {
    if (body === undefined) this.#seen.delete(key(change.kind, name));
    else this.#seen.set(key(change.kind, name), body);
    this.#applied++;
    try {
      this.#store.notify(change);
    } catch (err) {
      // A part that throws while told must not make the change be read (and told) again and again.
      this.#log.error({ err, kind: change.kind, name: change.name }, 'Applying a config change from another server failed');
    }
  }

  #remember(change: ConfigChange): void {
    this.#seen.delete(key(change.kind, change.name));
    const current = change.current as { name?: unknown } | undefined;
    if (current === undefined) return;
    const name = typeof current.name === 'string' ? current.name : change.name;
    this.#seen.set(key(change.kind, name), JSON.stringify(current));
  }
}

function key(kind: string, name: string): string {
  return `${kind}\0${name}`;
}

function unkey(k: string): [string, string] {
  const at = k.indexOf('\0');
  return [k.slice(0, at), k.slice(at + 1)];
}
