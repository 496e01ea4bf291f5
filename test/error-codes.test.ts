// The error table against the code and the docs: every code sent is in src/errors/codes.ts, every code there is
// used in src/ and documented in docs/protocol.md or docs/admin-api.md with its status, and nothing else is.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CODES,
  BadRequestError,
  ConflictError,
  InternalError,
  NotFoundError,
  ServiceError,
  SwitchboardError,
  UnauthorizedError,
  ValidationError,
  isErrorCode,
  statusOf,
  toSwitchboardError,
  wsxStatusOf,
  type CodeEntry,
  type ErrorCode,
} from '../src/errors/index.js';
import { errorMessage, errorResponse } from '../src/protocol/index.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const TABLE_FILE = join('src', 'errors', 'codes.ts');
const ALL = Object.keys(CODES) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const SOURCES = sourceFiles('src')
  .filter((f) => f !== TABLE_FILE)
  .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

// Errors that are not SwitchboardErrors take a message first (Node's, and the CLI's own exit-code errors).
const NOT_OURS = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'UsageError', 'ConfigFileError', 'ApiError']);

// Where a string literal in src/ stands for an error code: what `tsc` checks by type, checked here by text too,
// so that a cast or a `string` parameter cannot smuggle a code past the table.
const CODE_POSITIONS: readonly RegExp[] = [
  /new (\w+Error)\(\s*'([^']*)'/g,
  /\bcode: '([^']*)'/g,
  /\b(?:rejectUpgrade\(\w+, |protocolError\(|metrics\?\.error\(|statusOf\(|send\(reply, )'([^']*)'/g,
  /\bstatusOf\(\w+ \? '([^']*)' : '([^']*)'\)/g,
];

/** Every `code` literal in a code position of src/, with where it is. */
function literalCodes(): { code: string; where: string }[] {
  const found: { code: string; where: string }[] = [];
  for (const { file, text } of SOURCES) {
    for (const pattern of CODE_POSITIONS) {
      for (const m of text.matchAll(pattern)) {
        const line = text.slice(0, m.index).split('\n').length;
        if (pattern.source.startsWith('new') && NOT_OURS.has(m[1]!)) continue;
        const codes = pattern.source.startsWith('new') ? [m[2]!] : m.slice(1).filter((c): c is string => c !== undefined);
        for (const code of codes) found.push({ code, where: `${file}:${line}` });
      }
    }
  }
  return found;
}

/** The config kinds (`channel`, …) that `<kind>_not_found` / `<kind>_exists` are built from. */
function configKinds(): string[] {
  const repo = SOURCES.find((s) => s.file.endsWith(join('store', 'config-repository.ts')));
  const union = repo?.text.match(/export type ConfigKind = ([^;]+);/)?.[1] ?? '';
  return [...union.matchAll(/'([a-z]+)'/g)].map((m) => m[1]!);
}

/** Codes of the table that src/ mentions: as a quoted literal, or built as `${this.kind}_suffix`. */
function usedCodes(): Set<string> {
  const used = new Set<string>();
  const kinds = configKinds();
  for (const { text } of SOURCES) {
    for (const m of text.matchAll(/'([a-z][a-z0-9_]*)'/g)) if (isErrorCode(m[1]!)) used.add(m[1]!);
    for (const m of text.matchAll(/`\$\{this\.kind\}(_[a-z_]+)`/g)) for (const kind of kinds) used.add(`${kind}${m[1]}`);
  }
  return used;
}

/** The rows `| \`code\` | status | …` of a doc's error section (from `heading` to the next `## `). */
function documentedCodes(doc: string, heading: string): { code: string; status: number | undefined; line: number }[] {
  const text = readFileSync(join(ROOT, 'docs', doc), 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  assert.ok(start >= 0, `${doc} has a "${heading}" section`);
  const rows: { code: string; status: number | undefined; line: number }[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    const m = lines[i]!.match(/^\| `([a-z][a-z0-9_]*)` \| ([^|]*) \|/);
    if (!m) continue;
    const status = Number.parseInt(m[2]!.trim(), 10);
    rows.push({ code: m[1]!, status: Number.isNaN(status) ? undefined : status, line: i + 1 });
  }
  return rows;
}

const DOCS = [
  { doc: 'protocol.md', heading: '## Error and close codes' },
  { doc: 'admin-api.md', heading: '## Errors' },
] as const;

describe('the error code table', () => {
  test('codes are snake_case and each status (and Zato status) is an HTTP status', () => {
    for (const code of ALL) {
      const entry: CodeEntry = CODES[code];
      assert.match(code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, code);
      assert.ok(STATUS_CODES[entry.status] && entry.status >= 400, `${code}: ${entry.status}`);
      if (entry.wsxStatus !== undefined)
        assert.ok(STATUS_CODES[entry.wsxStatus] && entry.wsxStatus !== entry.status, `${code}: wsxStatus`);
    }
  });

  test('an error takes its status from its code, whatever class carries it', () => {
    for (const code of ALL) assert.equal(new SwitchboardError(code, 'x').status, CODES[code].status, code);
    assert.equal(new NotFoundError('topic_not_found', 'x').status, 404);
    assert.equal(new ConflictError('not_supported', 'x').status, 409);
    assert.equal(new UnauthorizedError('invalid_credentials', 'x').status, 401);
    const invalid = new ValidationError('invalid_input', 'x', { field: 'address' });
    assert.deepEqual([invalid.status, invalid.code, invalid.field], [400, 'invalid_input', 'address']);
    const cause = new Error('inner');
    assert.equal(new BadRequestError('bad_request', 'x', { cause }).cause, cause);
  });

  test('a service error keeps its own code and status, but a code of the table keeps the table status', () => {
    const teapot = new ServiceError('teapot', 'I am a teapot', { status: 418 });
    assert.deepEqual([teapot.code, teapot.status, teapot instanceof SwitchboardError], ['teapot', 418, true]);
    assert.equal(new ServiceError('topic_full', 'x', { status: 400 }).status, 409);
    for (const status of [200, 302, 600, 404.5])
      assert.equal(new ServiceError('odd', 'x', { status }).status, 500, String(status));
    assert.equal(statusOf('teapot'), 500);
  });

  test('anything else thrown becomes internal_error (500), its message hidden and its cause kept', () => {
    const cause = new TypeError('x is undefined');
    const e = toSwitchboardError(cause);
    assert.ok(e instanceof InternalError);
    assert.deepEqual([e.code, e.status, e.message, e.cause], ['internal_error', 500, 'Internal server error', cause]);
    const known = new NotFoundError('channel_not_found', 'No channel');
    assert.equal(toSwitchboardError(known), known);
    assert.equal(toSwitchboardError('a string').code, 'internal_error');
  });

  test("WSX error frames take code and status from the error; a refused session keeps Zato 3.2's 403", () => {
    const rsperr = JSON.parse(errorResponse('c1', new ConflictError('topic_full', 'full'), 'cid1'));
    assert.deepEqual([rsperr.meta.status, rsperr.meta.code, rsperr.data.code], [409, 'topic_full', 'topic_full']);
    const merr = JSON.parse(errorMessage(new UnauthorizedError('invalid_credentials', 'Invalid credentials')));
    assert.deepEqual([merr.meta.status, merr.meta.code], [403, 'invalid_credentials']);
    assert.equal(wsxStatusOf('invalid_credentials', 401), 403);
    assert.equal(wsxStatusOf('session_timeout', 401), 401);
    assert.equal(wsxStatusOf('teapot', 418), 418);
  });
});

// Never called: `tsc` compiles this file, and each @ts-expect-error fails the build if its line starts compiling.
// They pin the two promises of the design: an old-shape call does not compile, nor does a code of another status.
export function shapesThatMustNotCompile(): unknown[] {
  return [
    // @ts-expect-error the old (code, status, message) shape
    new SwitchboardError('topic_full', 409, 'x'),
    // @ts-expect-error the old (message, code) shape
    new ConflictError('Topic is full', 'topic_full'),
    // @ts-expect-error the old (field, message) shape
    new ValidationError('address', 'Not a valid address'),
    // @ts-expect-error a field is required on a ValidationError
    new ValidationError('invalid_input', 'x'),
    // @ts-expect-error a code of another status (409) on a 404 class
    new NotFoundError('topic_full', 'x'),
    // @ts-expect-error a code that is not in the table
    new BadRequestError('made_up', 'x'),
    // @ts-expect-error InternalError needs its code like every class
    new InternalError(),
  ];
}

describe('codes in src/ and docs/', () => {
  test('every code literal in src/ is in the table', () => {
    const literals = literalCodes();
    assert.ok(literals.length > 100, `found ${literals.length} code literals: the patterns still match the code`);
    const unknown = literals.filter((l) => !isErrorCode(l.code)).map((l) => `${l.code} (${l.where})`);
    assert.deepEqual(unknown, [], 'codes used in src/ but missing from src/errors/codes.ts');
  });

  test('every code of the table is used in src/', () => {
    const used = usedCodes();
    assert.deepEqual(
      ALL.filter((c) => !used.has(c)),
      [],
      'codes in src/errors/codes.ts that nothing sends',
    );
  });

  test('every code of the table is documented, with its status, in docs/protocol.md or docs/admin-api.md', () => {
    const documented = new Set<string>();
    for (const { doc, heading } of DOCS) {
      for (const row of documentedCodes(doc, heading)) {
        assert.ok(isErrorCode(row.code), `${doc}:${row.line} documents ${row.code}, which is not in src/errors/codes.ts`);
        const entry: CodeEntry = CODES[row.code];
        const allowed = [entry.status, entry.wsxStatus].filter((s) => s !== undefined);
        assert.ok(
          row.status !== undefined && allowed.includes(row.status),
          `${doc}:${row.line}: ${row.code} is ${allowed.join(' or ')}, not ${row.status}`,
        );
        documented.add(row.code);
      }
    }
    assert.deepEqual(
      ALL.filter((c) => !documented.has(c)),
      [],
      'codes in src/errors/codes.ts that neither doc lists',
    );
  });
});
