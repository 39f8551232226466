/**
 * No import cycles in src/, type-only imports included: a cycle means two modules cannot be read, tested
 * or changed apart. Imports are read with TypeScript's own parser, so comments and strings never count.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The src/ files a module imports or re-exports from (type-only too). */
export function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const add = (spec: string) => {
    if (!spec.startsWith('.')) return;
    const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    const candidates = [resolved, `${resolved}.ts`, path.join(resolved, 'index.ts')];
    const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (hit && hit.startsWith(SRC)) out.push(hit);
  };
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) {
      add(n.arguments[0].text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Every elementary cycle's first occurrence, found by depth-first search (the graph is small). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const dfs = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') {
        const cyc = stack.slice(stack.indexOf(m));
        const key = [...cyc].sort().join('|');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cyc, m]);
        }
      } else if (!state.has(m)) {
        dfs(m);
      }
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) dfs(n);
  return cycles;
}

describe('import graph of src/', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const rel = (f: string) => path.relative(SRC, f);

  it('has no cycle between files', () => {
    expect(findCycles(graph).map((c) => c.map(rel).join(' -> '))).toEqual([]);
  });

  it('has no cycle between folders (nothing flows backwards)', () => {
    // A folder is src/'s top level (research/corpus belongs to research); top-level files are leaves.
    const folder = (f: string) => (rel(f).includes(path.sep) ? rel(f).split(path.sep)[0]! : '.');
    const g = new Map<string, string[]>();
    for (const [f, deps] of graph) {
      const a = folder(f);
      if (a === '.') continue; // top-level leaf modules (config, files, git) are shared by all
      const l = g.get(a) ?? [];
      for (const d of deps) {
        const b = folder(d);
        if (b !== a && b !== '.' && !l.includes(b)) l.push(b);
      }
      g.set(a, l);
    }
    expect(findCycles(g).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the detector finds a cycle it is shown (it is not vacuous)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
    expect(files.length).toBeGreaterThan(50);
    expect([...graph.values()].reduce((s, d) => s + d.length, 0)).toBeGreaterThan(100);
  });
});
