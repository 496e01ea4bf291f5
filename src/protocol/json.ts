/**
 * Deepest nesting of arrays and objects accepted in a frame. JSON.parse copes with any depth, but every
 * recursive walker after it (JSON.stringify of a reply, logging, services) overflows the stack somewhere
 * around 10k levels; 128 is far above what real payloads use (serde_json's default limit is the same).
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when `text` nests arrays/objects deeper than `limit`. Scans the text (strings skipped) instead of
 * walking the parsed value, so a hostile frame is refused before a deep structure is built, with no recursion.
 * It is on every frame's path, so it is cheap for ordinary ones: a text with at most `limit` brackets cannot
 * be too deep (counted with native `indexOf`), and string contents are jumped over. Malformed JSON is left to
 * JSON.parse to report.
 */
export function exceedsJsonDepth(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  if (text.length <= limit || !hasMoreOpenings(text, limit)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = endOfString(text, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** True when `text` holds more than `limit` opening brackets (in strings or not): only then can it be too deep. */
function hasMoreOpenings(text: string, limit: number): boolean {
  let count = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++count > limit) return true;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++count > limit) return true;
  return false;
}

/** The index of the quote that closes the string opened at `start` (one not escaped by an odd run of backslashes). */
function endOfString(text: string, start: number): number {
  for (let i = text.indexOf('"', start + 1); i !== -1; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    for (let j = i - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return text.length;
}

/** The result of `parseJsonBounded`: the value, or why the text was refused. */
export type BoundedJson = { ok: true; value: unknown } | { ok: false; code: 'invalid_json' | 'too_deep'; message: string };

/** JSON.parse that refuses nesting deeper than `limit` (code `too_deep`) and reports bad JSON (`invalid_json`). */
export function parseJsonBounded(text: string, limit: number = MAX_JSON_DEPTH): BoundedJson {
  if (exceedsJsonDepth(text, limit)) {
    return { ok: false, code: 'too_deep', message: `JSON nested deeper than ${limit} levels` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, code: 'invalid_json', message: `Invalid JSON: ${(err as Error).message}` };
  }
}
