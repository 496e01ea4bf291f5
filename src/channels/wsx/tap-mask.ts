import { TOKEN_PREFIX } from '../../protocol/index.js';

/** What a masked secret becomes in a tapped frame. */
export const MASK = '***';

// A key names a secret when it ends with one of these words (`secret`, `client_secret`, `access_token`, `X-Api-Key`…).
// Names that only start with one (`tokenTtl`, `passwordPolicy`) are left alone; `sub_key` is an id, not a secret.
const SECRET_WORDS = 'secret|passw(?:or)?d|pwd|token|api[_-]?key|authorization|cookie|credentials?|private[_-]?key';
const SECRET_NAME = new RegExp(`(?:${SECRET_WORDS})$`, 'i');

// A quoted key and its colon, also inside JSON carried as a string (`\"password\":`): the same run of backslashes
// before both of the key's quotes.
const QUOTED_KEY = /(\\*)"([^"\\\r\n]{1,128})\1"\s*:\s*/g;

// `password=…`, `access_token: …`, `?token=…&`: an unquoted key, `=` or `:`, and a value quoted or up to a delimiter.
const UNQUOTED = new RegExp(
  `\\b([A-Za-z0-9_.-]*(?:${SECRET_WORDS}))(\\s*[=:]\\s*)("[^"\\r\\n]*"?|'[^'\\r\\n]*'?|[^\\s&"',;}\\]\\\\]+)`,
  'gi',
);
// An HTTP header in text: everything after `Authorization:` up to the end of its value.
const AUTH_HEADER = /\b((?:proxy-)?authorization)(\s*[:=]\s*)([^\r\n"',;}&\\]+)/gi;
// `user:password@` in a URL.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@"'\\]+):([^\s@/"'\\]+)@/gi;
// A credential after its scheme, anywhere (`Bearer abc…`, `Basic dXNl…`).
const SCHEME_CREDENTIAL = /\b(Basic|Bearer)(\s+)[A-Za-z0-9._~+/-]{6,}=*/g;
// A JWT: three (JWE: five) dot-separated base64url segments, the first a JSON header (`{"` is `eyJ`, `{ "` is `eyA`).
// The header rule keeps dotted names (`zato.helpers.echo`, host names) readable.
const JWT = /\bey[JA][A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g;
// What a cut may leave of a JWT at the end of a truncated text: its header, or its header and part of the payload.
const JWT_TAIL = /\bey[JA][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?$/;
// Session tokens, whatever carries them (a `zwsx.rspa`, `meta.token`, a service's payload).
const SESSION_TOKEN = new RegExp(`${TOKEN_PREFIX.replace('.', '\\.')}[0-9A-Za-z]*`, 'g');

/**
 * Masks every secret in a frame's text before anyone sees it: the values of JSON keys that name a secret (at any
 * depth, also in JSON carried inside a string), `key=value` and `key: value` pairs of the same names, Authorization
 * headers and bare `Basic`/`Bearer` credentials, passwords in URLs, JWTs and WSX session tokens. `truncated` says the
 * text was cut: a value cut short is masked to the end, and so is what is left of a JWT there.
 */
export function maskSecrets(text: string, truncated = false): string {
  let out = maskJsonValues(text)
    .replace(UNQUOTED, (_m, key: string, sep: string) => `${key}${sep}${MASK}`)
    .replace(AUTH_HEADER, (_m, key: string, sep: string) => `${key}${sep}${MASK}`)
    .replace(URL_PASSWORD, (_m, before: string) => `${before}:${MASK}@`)
    .replace(SCHEME_CREDENTIAL, (_m, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(JWT, MASK)
    .replace(SESSION_TOKEN, `${TOKEN_PREFIX}${MASK}`);
  if (truncated) out = out.replace(JWT_TAIL, MASK);
  return out;
}

// Replaces the value of every quoted key that names a secret; a string value keeps its quotes, any other becomes one.
function maskJsonValues(text: string): string {
  let out = '';
  let last = 0;
  QUOTED_KEY.lastIndex = 0;
  for (let m = QUOTED_KEY.exec(text); m; m = QUOTED_KEY.exec(text)) {
    if (!SECRET_NAME.test(m[2]!)) continue;
    const escapes = m[1]!;
    const start = m.index + m[0].length;
    if (start >= text.length) break;
    const end = valueEnd(text, start, escapes.length);
    out += `${text.slice(last, start)}${escapes}"${MASK}${escapes}"`;
    last = end;
    QUOTED_KEY.lastIndex = Math.max(end, start);
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Where the JSON value starting at `i` ends, at escape level `level` (the backslashes before its quotes). */
function valueEnd(text: string, i: number, level: number): number {
  if (opensString(text, i, level)) return stringEnd(text, i + level + 1, level);
  const c = text[i];
  if (c === '{' || c === '[') return bracketEnd(text, i, level);
  let j = i;
  while (j < text.length && !LITERAL_END.test(text[j]!)) j++;
  return j;
}

const LITERAL_END = /[,}\]\s"\\]/;

function opensString(text: string, i: number, level: number): boolean {
  for (let k = 0; k < level; k++) if (text[i + k] !== '\\') return false;
  return text[i + level] === '"';
}

/** Backslashes right before position `k`. */
function backslashesBefore(text: string, k: number, from: number): number {
  let n = 0;
  while (k - n - 1 >= from && text[k - n - 1] === '\\') n++;
  return n;
}

/**
 * The end of a string whose content starts at `i`: at level 0 the first quote after an even run of backslashes; deeper,
 * the first quote with at most `level` before it (a quote of a string nested deeper has more). The end of the text if
 * none: a value cut short is masked to the end.
 */
function stringEnd(text: string, i: number, level: number): number {
  for (let k = text.indexOf('"', i); k >= 0; k = text.indexOf('"', k + 1)) {
    const run = backslashesBefore(text, k, i);
    if (level === 0 ? run % 2 === 0 : run <= level) return k + 1;
  }
  return text.length;
}

function bracketEnd(text: string, i: number, level: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"' && backslashesBefore(text, j, i) === level) {
      j = stringEnd(text, j + 1, level) - 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) return j + 1;
    }
  }
  return text.length;
}
