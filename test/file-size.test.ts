// The house limit: every .ts file under src/ has fewer than 350 lines (as `wc -l` counts them). A file that grows
// past it is split along a seam (one concern to its own file), not squeezed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 350;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFilesUnder(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Lines as `wc -l` counts them, plus a last line without its newline. */
function lineCount(text: string): number {
  if (text === '') return 0;
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

/** `path: n lines` for each file at or over the limit. */
function overLimit(files: readonly { path: string; text: string }[]): string[] {
  return files
    .map((f) => ({ path: f.path, lines: lineCount(f.text) }))
    .filter((f) => f.lines >= MAX_LINES)
    .map((f) => `${f.path}: ${f.lines} lines`);
}

test(`every .ts file under src/ has fewer than ${MAX_LINES} lines`, () => {
  const paths = tsFilesUnder(join(root, 'src'));
  assert.ok(paths.length > 50, `only ${paths.length} files found under src/`);
  const files = paths.map((p) => ({ path: relative(root, p).split(sep).join('/'), text: readFileSync(p, 'utf8') }));
  const over = overLimit(files);
  assert.deepEqual(over, [], `split these files (the limit is fewer than ${MAX_LINES} lines):\n${over.join('\n')}`);
});

test('the check counts lines as wc -l does and names each file at the limit', () => {
  assert.equal(lineCount(''), 0);
  assert.equal(lineCount('a\n'), 1);
  assert.equal(lineCount('a\nb'), 2);
  assert.equal(lineCount('a\nb\n'), 2);
  const fake = [
    { path: 'src/a/short.ts', text: 'x\n'.repeat(MAX_LINES - 1) },
    { path: 'src/a/at.ts', text: 'x\n'.repeat(MAX_LINES) },
    { path: 'src/b/over.ts', text: 'x\n'.repeat(MAX_LINES + 20) },
  ];
  assert.deepEqual(overLimit(fake), [`src/a/at.ts: ${MAX_LINES} lines`, `src/b/over.ts: ${MAX_LINES + 20} lines`]);
});
