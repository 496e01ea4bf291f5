// Pub/sub permissions as Zato's pub/sub endpoints have them: `pub=/orders/*`, `sub=/orders/*` (docs/security.md).

/** What a client does to a topic. */
export type TopicOperation = 'pub' | 'sub';

/** Where a set of patterns comes from (for the admin API's "who may" view). */
export interface PatternLayer {
  readonly source: 'channel' | 'security';
  readonly name: string;
  readonly patterns: readonly string[];
}

/**
 * True when `topic` matches `glob`, in which `*` stands for any run of characters (`/` included) and every other
 * character for itself. Iterative with one backtrack point, so a hostile pattern costs O(pattern × topic) at most.
 */
export function globMatches(glob: string, topic: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < topic.length) {
    if (g < glob.length && glob[g] !== '*' && glob[g] === topic[t]) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = t;
    } else if (star >= 0) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** The globs of one operation in a layer's `op=glob` entries. */
function globsOf(patterns: readonly string[], op: TopicOperation): string[] {
  const prefix = `${op}=`;
  return patterns.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
}

/**
 * The topics a client may publish to and subscribe to. Each layer with patterns (the channel's, the security
 * definition's) restricts: an operation is allowed when every such layer has a matching pattern of its kind. With no
 * patterns anywhere, every topic is allowed (what channels did before permissions existed).
 */
export class TopicAccess {
  /** Per restricting layer, its globs by operation. */
  readonly #layers: ReadonlyArray<Readonly<Record<TopicOperation, readonly string[]>>>;

  constructor(layers: readonly PatternLayer[]) {
    this.#layers = layers
      .filter((l) => l.patterns.length > 0)
      .map((l) => ({ pub: globsOf(l.patterns, 'pub'), sub: globsOf(l.patterns, 'sub') }));
  }

  /** True when no layer restricts anything: any topic, as before permissions. */
  get open(): boolean {
    return this.#layers.length === 0;
  }

  /** True when the client may do `op` on `topic`. */
  allows(op: TopicOperation, topic: string): boolean {
    for (const layer of this.#layers) if (!layer[op].some((glob) => globMatches(glob, topic))) return false;
    return true;
  }
}

/** Access for everything: a channel with no patterns. */
export const OPEN_ACCESS = new TopicAccess([]);
