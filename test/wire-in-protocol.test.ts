// The WSX wire format lives in src/protocol/ only: no other part builds a frame (a `meta` object, a `zwsx.*` action)
// or parses one by hand. A scan of the code with its comments taken out, so that prose about frames does not count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** What building or reading a WSX frame by hand looks like. */
const FRAME_SHAPES: ReadonlyArray<{ readonly what: string; readonly pattern: RegExp }> = [
  { what: 'a zwsx.* action or id prefix', pattern: /['"`]zwsx[a-z]*\./ },
  { what: 'a frame object with a meta member', pattern: /\bmeta\s*:\s*\{/ },
  { what: 'a frame serialised by hand', pattern: /JSON\.stringify\(\s*\{\s*['"]?meta\b/ },
  { what: 'a frame parsed by hand', pattern: /JSON\.parse\([^;]*\)[^;]*\.meta\b/ },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The code without its comments (strings are kept: a frame spelt in a string is what this looks for). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Every place outside protocol/ where a frame shape appears, as `file:line — what`. */
function frameShapesOutsideProtocol(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  const found: string[] = [];
  for (const { path, text } of files) {
    if (path.startsWith('src/protocol/')) continue;
    withoutComments(text)
      .split('\n')
      .forEach((line, i) => {
        for (const { what, pattern } of FRAME_SHAPES) if (pattern.test(line)) found.push(`${path}:${i + 1} — ${what}`);
      });
  }
  return found;
}

test('no WSX frame is built or parsed outside src/protocol/', () => {
  const files = sourceFiles(join(root, 'src')).map((file) => ({
    path: relative(root, file).split('\\').join('/'),
    text: readFileSync(file, 'utf8'),
  }));
  assert.ok(files.length > 50, 'the scan found the source files');
  const found = frameShapesOutsideProtocol(files);
  assert.deepEqual(found, [], `build or parse frames in protocol/ instead:\n${found.join('\n')}`);
});

test('the scan catches each shape outside protocol/, and not in protocol/ or in comments', () => {
  const bad = [
    "const f = JSON.stringify({ meta: { action: 'invoke-service' } });",
    'ws.send(`{"meta":{"action":"zwsx.rqc"}}`);',
    'const id = JSON.parse(text).meta.id;',
  ].join('\n');
  const found = frameShapesOutsideProtocol([
    { path: 'src/outgoing/wsx/x.ts', text: bad },
    { path: 'src/protocol/y.ts', text: bad },
    { path: 'src/pubsub/z.ts', text: '// a zwsx.psrq frame: { meta: { … } }\n/* JSON.stringify({ meta }) */\nconst a = 1;' },
  ]);
  assert.deepEqual(found, [
    'src/outgoing/wsx/x.ts:1 — a frame object with a meta member',
    'src/outgoing/wsx/x.ts:1 — a frame serialised by hand',
    'src/outgoing/wsx/x.ts:2 — a zwsx.* action or id prefix',
    'src/outgoing/wsx/x.ts:3 — a frame parsed by hand',
  ]);
});
