/**
 * The import graph of src/ and the checks over it: layering (no import from a lower layer to a
 * higher one) and seams (an external package or call used only in its one folder or file).
 * Specifiers come from the TypeScript compiler's own pre-processor (static imports, `export ...
 * from`, `import type`, dynamic `import()`), so multi-line and type-only imports count too.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the repository root with forward slashes (src/queue/batcher.ts). */
  from: string;
  /** The specifier as written ('../core/errors.ts', 'kafkajs'). */
  spec: string;
  /** For a relative specifier, the imported file relative to the repository root; undefined for a package. */
  to?: string;
}

export interface SourceFile {
  path: string;
  text: string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every .ts / .mjs file under src/, relative to the repository root. */
export function srcFiles(root = ROOT): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs|js)$/.test(e.name)) out.push({ path: path.relative(root, p).split(path.sep).join('/'), text: fs.readFileSync(p, 'utf8') });
    }
  };
  walk(path.join(root, 'src'));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export function importsOf(file: SourceFile): ImportEdge[] {
  const info = ts.preProcessFile(file.text, true, true);
  return info.importedFiles.map(({ fileName: spec }) => {
    if (!spec.startsWith('.')) return { from: file.path, spec };
    const to = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), spec));
    return { from: file.path, spec, to };
  });
}

export function importGraph(files: SourceFile[] = srcFiles()): ImportEdge[] {
  return files.flatMap(importsOf);
}

/** The folder under src/ a file belongs to (src/nlp/linking/x.ts -> nlp); '' for a file outside src/. */
export function folderOf(file: string): string {
  const m = /^src\/([^/]+)\//.exec(file);
  return m ? m[1]! : '';
}

/**
 * Layers, bottom first. A file may import its own folder and folders of lower layers only: not a
 * higher layer, and not another folder of its own layer (siblings stay independent).
 */
export type Layers = readonly (readonly string[])[];

export function layerViolations(edges: readonly ImportEdge[], layers: Layers): string[] {
  const level = new Map<string, number>();
  layers.forEach((folders, i) => folders.forEach((f) => level.set(f, i)));
  const out: string[] = [];
  const unknown = new Set<string>();
  for (const e of edges) {
    const a = folderOf(e.from);
    if (!level.has(a)) unknown.add(a || e.from);
    if (e.to === undefined) continue;
    const b = folderOf(e.to);
    if (!b || a === b) continue; // outside src/ (schemas, package.json) or the same folder
    if (!level.has(b)) {
      unknown.add(b);
      continue;
    }
    const la = level.get(a)!;
    const lb = level.get(b)!;
    if (lb > la) out.push(`${e.from} imports ${e.to}: ${b} is a higher layer than ${a}`);
    else if (lb === la) out.push(`${e.from} imports ${e.to}: ${a} and ${b} are siblings in one layer and must not import each other`);
  }
  for (const f of unknown) out.push(`src/${f} is in no layer: add it to the layer order`);
  return out;
}

/** The only files allowed to use an external system one way, and why. */
export interface SeamRule {
  allowed: (file: string) => boolean;
  why: string;
}

/** An external package (or node: module) and the only files allowed to import it. */
export interface Seam extends SeamRule {
  module: string;
}

export function seamViolations(edges: readonly ImportEdge[], seams: readonly Seam[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    if (e.to !== undefined) continue;
    for (const s of seams) {
      if ((e.spec === s.module || e.spec.startsWith(`${s.module}/`)) && !s.allowed(e.from)) out.push(`${e.from} imports ${e.spec}: ${s.why}`);
    }
  }
  return out;
}

function parse(file: SourceFile): ts.SourceFile {
  const kind = /\.(mjs|js)$/.test(file.path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  return ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, kind);
}

function visit(node: ts.Node, f: (n: ts.Node) => void): void {
  f(node);
  ts.forEachChild(node, (c) => visit(c, f));
}

/** Calls to a global function by name (`fetch(...)`, `globalThis.fetch(...)`), with their 1-based lines. */
export function globalCalls(file: SourceFile, name: string): number[] {
  const sf = parse(file);
  const lines: number[] = [];
  visit(sf, (n) => {
    if (!ts.isCallExpression(n)) return;
    const c = n.expression;
    const hit =
      (ts.isIdentifier(c) && c.text === name) ||
      (ts.isPropertyAccessExpression(c) && c.name.text === name && ts.isIdentifier(c.expression) && ['globalThis', 'window', 'global'].includes(c.expression.text));
    if (hit) lines.push(sf.getLineAndCharacterOfPosition(n.getStart()).line + 1);
  });
  return lines;
}

/** A global call (e.g. `fetch`) and the only files allowed to make it. */
export interface CallSeam extends SeamRule {
  name: string;
}

export function callViolations(files: readonly SourceFile[], seams: readonly CallSeam[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const s of seams) {
      if (s.allowed(f.path)) continue;
      for (const line of globalCalls(f, s.name)) out.push(`${f.path}:${line} calls ${s.name}(): ${s.why}`);
    }
  }
  return out;
}

/** `throw new Error(...)` / `throw Error(...)` statements (a bare Error, not a subclass), with their 1-based lines. */
export function bareErrorThrows(file: SourceFile): number[] {
  const sf = parse(file);
  const lines: number[] = [];
  visit(sf, (n) => {
    if (!ts.isThrowStatement(n)) return;
    const x = n.expression;
    if ((ts.isNewExpression(x) || ts.isCallExpression(x)) && ts.isIdentifier(x.expression) && x.expression.text === 'Error') {
      lines.push(sf.getLineAndCharacterOfPosition(n.getStart()).line + 1);
    }
  });
  return lines;
}
