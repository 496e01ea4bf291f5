// The map is executable: every import under src/ follows architecture.json (allowed arrows, forbidden pairs, entry
// through a part's index.ts), every part folder is on the map, and the checker itself catches each kind of breach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkArchitecture,
  formatViolations,
  specifiersOf,
  type ArchitectureMap,
  type SourceFile,
} from './helpers/architecture.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const map = JSON.parse(readFileSync(join(root, 'architecture.json'), 'utf8')) as ArchitectureMap;

function sourcesUnder(dir: string): SourceFile[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    if (!name.endsWith('.ts')) return [];
    return [{ path: relative(root, path).split(sep).join('/'), text: readFileSync(path, 'utf8') }];
  });
}

test('every import under src/ follows architecture.json', () => {
  const files = sourcesUnder(join(root, 'src'));
  assert.ok(files.length > 50, `only ${files.length} files found under src/`);
  const violations = checkArchitecture(map, files);
  assert.equal(violations.length, 0, `architecture.json is broken by:\n${formatViolations(violations)}`);
});

test('the scan sees type-only imports, re-exports, dynamic imports, import types and multi-line import lists', () => {
  const text = [
    "import type { A } from './a.js';",
    "export { B } from './b.js';",
    "export * from './c.js';",
    'import {',
    '  D,',
    '  E,',
    "} from './d.js';",
    "const f = await import('./f.js');",
    "import './side-effect.js';",
    "type T = import('./t.js').T;",
  ].join('\n');
  assert.deepEqual(specifiersOf({ path: 'src/x/y.ts', text }), [
    './a.js',
    './b.js',
    './c.js',
    './d.js',
    './f.js',
    './side-effect.js',
    './t.js',
  ]);
});

// A tiny map and tree, so each rule is seen to fire on its own.
const fakeMap: ArchitectureMap = {
  parts: {
    wire: { folder: 'src/wire', owns: 'frames', mayImport: [] },
    db: { folder: 'src/db', owns: 'tables', mayImport: [] },
    svc: { folder: 'src/svc', owns: 'services', mayImport: ['wire', 'db'] },
    app: { folder: 'src/app', owns: 'wiring', mayImport: ['svc', 'wire', 'db'] },
    decl: { folder: 'src/decl', owns: 'ambient types', noIndex: true, mayImport: [] },
    later: { folder: 'src/later', owns: 'not built yet', planned: true, mayImport: [] },
    pkg: { file: 'src/index.ts', owns: 'public API', mayImport: ['svc'] },
  },
  forbidden: [
    { from: 'wire', to: '*', why: 'pure' },
    { from: '*', to: 'pkg', why: 'public face' },
  ],
  packages: { sqlite: { only: ['db'], why: 'db only' } },
  exceptions: [],
};
const clean: SourceFile[] = [
  { path: 'src/wire/index.ts', text: "export * from './frame.js';" },
  { path: 'src/wire/frame.ts', text: 'export const F = 1;' },
  { path: 'src/db/index.ts', text: "import Database from 'sqlite';\nexport { Database };" },
  {
    path: 'src/svc/index.ts',
    text: "import type { F } from '../wire/index.js';\nimport '../db/index.js';\nexport * from './registry.js';",
  },
  { path: 'src/svc/registry.ts', text: "import { readFileSync } from 'node:fs';\nexport const R = 1;" },
  { path: 'src/app/index.ts', text: "import { R } from '../svc/index.js';" },
  { path: 'src/decl/ws.d.ts', text: "declare module 'ws' {}" },
  { path: 'src/index.ts', text: "export * from './svc/index.js';" },
];
const withFile = (path: string, text: string): SourceFile[] => [...clean.filter((f) => f.path !== path), { path, text }];

test('the checker passes a tree that follows its map', () => {
  assert.deepEqual(checkArchitecture(fakeMap, clean), []);
});

test('the checker names file, import and rule for an arrow the map does not allow', () => {
  const violations = checkArchitecture(fakeMap, withFile('src/db/index.ts', "import { R } from '../svc/index.js';"));
  assert.equal(violations.length, 1, formatViolations(violations));
  assert.equal(violations[0]?.file, 'src/db/index.ts');
  assert.equal(violations[0]?.import, '../svc/index.js');
  assert.match(violations[0]?.rule ?? '', /not allowed: db may import only \[\], not svc/);
});

test('the checker catches a forbidden pair, type-only imports included', () => {
  const violations = checkArchitecture(fakeMap, withFile('src/wire/frame.ts', "import type { R } from '../svc/index.js';"));
  assert.equal(violations.length, 1, formatViolations(violations));
  assert.match(violations[0]?.rule ?? '', /forbidden: wire → svc \(pure\)/);
  const toPkg = checkArchitecture(fakeMap, withFile('src/app/index.ts', "export { R } from '../index.js';"));
  assert.match(formatViolations(toPkg), /src\/app\/index.ts: '..\/index.js' — forbidden: app → pkg \(public face\)/);
});

test("the checker catches an import that reaches past a part's index.ts", () => {
  const violations = checkArchitecture(fakeMap, withFile('src/app/index.ts', "import { R } from '../svc/registry.js';"));
  assert.equal(violations.length, 1, formatViolations(violations));
  assert.match(violations[0]?.rule ?? '', /bypasses svc's index: import src\/svc\/index.ts instead of src\/svc\/registry.ts/);
});

test("a part's declared entries (its schema-only config.ts) may be imported besides its index, nothing else", () => {
  const map: ArchitectureMap = {
    ...fakeMap,
    parts: { ...fakeMap.parts, svc: { ...fakeMap.parts.svc!, entries: ['config.ts'] } },
  };
  const tree = [
    ...withFile('src/app/index.ts', "import { S } from '../svc/config.js';"),
    { path: 'src/svc/config.ts', text: 'export const S = 1;' },
  ];
  assert.deepEqual(checkArchitecture(map, tree), []);
  const other = checkArchitecture(map, withFile('src/app/index.ts', "import { R } from '../svc/registry.js';"));
  assert.match(formatViolations(other), /bypasses svc's index/);
});

test('the checker catches a folder missing from the map, a part with no files and an import of an index-less part', () => {
  const unmapped = checkArchitecture(fakeMap, [...clean, { path: 'src/extra/thing.ts', text: '' }]);
  assert.match(formatViolations(unmapped), /src\/extra\/thing.ts: — src\/extra\/ is not a part on the map/);
  const empty = checkArchitecture(
    fakeMap,
    clean.filter((f) => !f.path.startsWith('src/db/')),
  );
  assert.match(formatViolations(empty), /part db has no files at src\/db/);
  const decl = checkArchitecture(
    { ...fakeMap, parts: { ...fakeMap.parts, app: { folder: 'src/app', owns: '', mayImport: ['svc', 'decl'] } } },
    withFile('src/app/index.ts', "import '../decl/ws.js';"),
  );
  assert.match(formatViolations(decl), /decl has no index and is never imported/);
});

test('the checker keeps packages to their parts, and an exception must still be needed', () => {
  const stray = checkArchitecture(fakeMap, withFile('src/svc/registry.ts', "import Database from 'sqlite';"));
  assert.match(formatViolations(stray), /src\/svc\/registry.ts: 'sqlite' — package sqlite only in \[db\] \(db only\)/);
  const excused = { ...fakeMap, exceptions: [{ file: 'src/svc/registry.ts', import: 'sqlite', why: 'until it moves' }] };
  assert.deepEqual(checkArchitecture(excused, withFile('src/svc/registry.ts', "import type { Db } from 'sqlite';")), []);
  assert.match(formatViolations(checkArchitecture(excused, clean)), /stale exception/);
});

test('the checker refuses a map that allows what it forbids or names an unknown part', () => {
  const contradictory: ArchitectureMap = {
    ...fakeMap,
    parts: { ...fakeMap.parts, wire: { folder: 'src/wire', owns: '', mayImport: ['db', 'nowhere'] } },
  };
  const text = formatViolations(checkArchitecture(contradictory, clean));
  assert.match(text, /wire → db' — both allowed and forbidden/);
  assert.match(text, /wire → nowhere' — unknown part nowhere/);
});
