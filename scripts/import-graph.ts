/**
 * The module graph of the product code (relative imports of `.ts` files, type-only ones
 * included), for the import-cycle test and for reading the layering. `node
 * scripts/import-graph.ts` prints every cycle and every import that crosses parts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PARTS = ['common', 'crds', 'proxy', 'webhook', 'operator', 'cli'] as const;

// `import … from '…'`, `import '…'`, `export … from '…'`, `import('…')`, each possibly `type`.
const SPEC = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function* tsFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* tsFiles(path);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield path;
  }
}

/** Specifiers a file imports (relative ones resolved to repository paths). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1] ?? m[2];
    if (spec === undefined) continue;
    out.push(spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)) : spec);
  }
  return out;
}

/** path (relative to the root) → the repository paths and package names it imports. */
export function graph(parts: readonly string[] = PARTS): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const part of parts) {
    for (const file of tsFiles(join(ROOT, part))) g.set(relative(ROOT, file), importsOf(file));
  }
  return g;
}

/** Every elementary cycle found by depth-first search (each reported once, from its first node). */
export function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      if (!g.has(m)) continue;
      const s = state.get(m);
      if (s === 1) found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (s === undefined) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const g = graph();
  for (const c of cycles(g)) console.log(`cycle: ${c.join(' → ')}`);
  for (const [file, deps] of g) {
    const from = file.split('/')[0] ?? '';
    for (const d of deps) {
      const to = d.split('/')[0] ?? '';
      if ((PARTS as readonly string[]).includes(to) && to !== from) console.log(`${from} → ${to}: ${file} imports ${d}`);
    }
  }
}
