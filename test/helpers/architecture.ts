// Checks src/'s imports against architecture.json: which part a file is in, which parts it may import, and that a
// part is entered only through its index.ts. Pure over a list of files, so the test can feed it fake trees.
import ts from 'typescript';
import { posix } from 'node:path';

/** One part of the map: a folder (or a single root file) and the parts it may import. */
export interface PartSpec {
  readonly folder?: string;
  readonly file?: string;
  readonly owns: string;
  readonly mayImport: readonly string[];
  /** On the map before its folder exists (DESIGN names it; a later issue builds it). */
  readonly planned?: boolean;
  /** Never imported (ambient declarations), so it has no index.ts. */
  readonly noIndex?: boolean;
  /**
   * Files besides index.ts that other parts may import, relative to the folder: `config.ts`, the part's config
   * schemas alone, which the CLI reads without loading the part (and so the whole server).
   */
  readonly entries?: readonly string[];
}

/** A pair that must never appear, whatever `mayImport` says; `*` is any part. */
export interface ForbiddenPair {
  readonly from: string;
  readonly to: string | readonly string[];
  readonly except?: readonly string[];
  readonly why: string;
}

/** A known breach of a package rule, allowed until the work named in `why` lands. */
export interface MapException {
  readonly file: string;
  readonly import: string;
  readonly why: string;
}

/** The shape of architecture.json. */
export interface ArchitectureMap {
  readonly parts: Readonly<Record<string, PartSpec>>;
  readonly forbidden: readonly ForbiddenPair[];
  readonly packages?: Readonly<Record<string, { readonly only: readonly string[]; readonly why: string }>>;
  readonly exceptions?: readonly MapException[];
}

/** A source file: its path from the repository root (posix, `src/...`) and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** One broken rule, with the file and import that break it. */
export interface Violation {
  readonly file: string;
  readonly import: string;
  readonly rule: string;
}

/** Every module specifier a file names: imports, `import type`, `export … from`, `import()` and `require()`. */
export function specifiersOf(file: SourceFile): string[] {
  const info = ts.preProcessFile(file.text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The part a path belongs to: a part's own file, or the part with the longest folder that holds it. */
export function partOf(map: ArchitectureMap, path: string): string | undefined {
  let best: { name: string; length: number } | undefined;
  for (const [name, spec] of Object.entries(map.parts)) {
    if (spec.file === path) return name;
    if (spec.folder === undefined || !path.startsWith(`${spec.folder}/`)) continue;
    if (!best || spec.folder.length > best.length) best = { name, length: spec.folder.length };
  }
  return best?.name;
}

/** The .ts source a relative specifier points at (`./x.js` → `x.ts`, as NodeNext resolution writes them). */
function resolveRelative(from: string, specifier: string): string {
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier));
  return joined.replace(/\.js$/, '.ts');
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function targets(pair: ForbiddenPair): readonly string[] {
  return typeof pair.to === 'string' ? [pair.to] : pair.to;
}

/** The forbidden pair that `from → to` matches, if any. */
function forbiddenPair(map: ArchitectureMap, from: string, to: string): ForbiddenPair | undefined {
  return map.forbidden.find((pair) => {
    if (pair.from !== '*' && pair.from !== from) return false;
    if (pair.except?.includes(pair.from === '*' ? from : to)) return false;
    return targets(pair).some((t) => t === '*' || t === to);
  });
}

function indexOf(spec: PartSpec): string | undefined {
  if (spec.file !== undefined) return spec.file;
  return spec.noIndex ? undefined : `${spec.folder}/index.ts`;
}

/** The rule a relative import between two parts breaks, if any. */
function crossPartRule(map: ArchitectureMap, from: string, to: string, target: string): string | undefined {
  const pair = forbiddenPair(map, from, to);
  if (pair) return `forbidden: ${from} → ${to} (${pair.why})`;
  if (!map.parts[from]?.mayImport.includes(to))
    return `not allowed: ${from} may import only [${map.parts[from]?.mayImport.join(', ')}], not ${to}`;
  const spec = map.parts[to] as PartSpec;
  const index = indexOf(spec);
  if (index === undefined) return `${to} has no index and is never imported`;
  if (target === index || spec.entries?.some((entry) => target === `${spec.folder}/${entry}`)) return undefined;
  return `bypasses ${to}'s index: import ${index} instead of ${target}`;
  return undefined;
}

/** Checks the map against itself: arrows name real parts, and no arrow is both allowed and forbidden. */
export function checkMap(map: ArchitectureMap): Violation[] {
  const out: Violation[] = [];
  for (const [name, spec] of Object.entries(map.parts)) {
    if ((spec.folder === undefined) === (spec.file === undefined))
      out.push({ file: 'architecture.json', import: name, rule: 'a part has a folder or a file, not both or neither' });
    for (const to of spec.mayImport) {
      if (!map.parts[to]) out.push({ file: 'architecture.json', import: `${name} → ${to}`, rule: `unknown part ${to}` });
      else if (forbiddenPair(map, name, to))
        out.push({ file: 'architecture.json', import: `${name} → ${to}`, rule: 'both allowed and forbidden' });
    }
  }
  for (const pair of map.forbidden) {
    for (const name of [pair.from, ...targets(pair), ...(pair.except ?? [])]) {
      if (name !== '*' && !map.parts[name])
        out.push({ file: 'architecture.json', import: name, rule: 'forbidden pair names an unknown part' });
    }
  }
  return out;
}

/** Every part folder the files show that the map lacks, and every non-planned part whose folder or file is missing. */
export function checkCoverage(map: ArchitectureMap, files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    if (partOf(map, file.path) === undefined)
      out.push({ file: file.path, import: '', rule: `${posix.dirname(file.path)}/ is not a part on the map` });
  }
  for (const [name, spec] of Object.entries(map.parts)) {
    if (spec.planned) continue;
    const present = files.some((f) => (spec.file !== undefined ? f.path === spec.file : f.path.startsWith(`${spec.folder}/`)));
    if (!present)
      out.push({ file: 'architecture.json', import: name, rule: `part ${name} has no files at ${spec.file ?? spec.folder}` });
  }
  return out;
}

function packageRule(
  map: ArchitectureMap,
  part: string,
  file: string,
  specifier: string,
  used: Set<MapException>,
): string | undefined {
  const rule = map.packages?.[packageName(specifier)];
  if (!rule || rule.only.includes(part)) return undefined;
  const exception = map.exceptions?.find((e) => e.file === file && e.import === packageName(specifier));
  if (exception) {
    used.add(exception);
    return undefined;
  }
  return `package ${packageName(specifier)} only in [${rule.only.join(', ')}] (${rule.why})`;
}

/** Every import in `files` that breaks the map, plus the map's own inconsistencies and stale exceptions. */
export function checkArchitecture(map: ArchitectureMap, files: readonly SourceFile[]): Violation[] {
  const out = [...checkMap(map), ...checkCoverage(map, files)];
  const used = new Set<MapException>();
  for (const file of files) {
    const from = partOf(map, file.path);
    if (from === undefined) continue;
    for (const specifier of specifiersOf(file)) {
      let rule: string | undefined;
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file.path, specifier);
        const to = partOf(map, target);
        if (to === undefined) rule = `${target} is in no part`;
        else if (to !== from) rule = crossPartRule(map, from, to, target);
      } else if (!specifier.startsWith('node:')) {
        rule = packageRule(map, from, file.path, specifier, used);
      }
      if (rule !== undefined) out.push({ file: file.path, import: specifier, rule });
    }
  }
  for (const e of map.exceptions ?? []) {
    if (!used.has(e))
      out.push({
        file: e.file,
        import: e.import,
        rule: 'stale exception in architecture.json: the import is gone, delete the entry',
      });
  }
  return out;
}

/** One line per violation, for an assertion message. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.file}: ${v.import ? `'${v.import}' ` : ''}— ${v.rule}`).join('\n');
}
