/**
 * The folder-level import graph of a source tree, and its cycles.
 *
 *   npm run import-graph                    # packages/resilience-core/src: edges, then cycles; exit 1 on a cycle
 *   npm run import-graph -- --root DIR      # another tree
 *   npm run import-graph -- --json          # machine-readable
 *
 * A folder is a top-level directory of the root (`circuit-breaker`, `jobs`, …); files directly under the root
 * (`errors.ts`, `ids.ts`) each count as their own node. An edge A → B means some file in A imports (statically,
 * `import`/`export … from`, type-only imports included: they couple designs just the same) a file in B. Cycles
 * are the strongly connected components with more than one node (Tarjan). Biome's `noImportCycles` guards
 * file-level cycles in CI; this script shows the design-level picture the issue measures before and after.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const args = process.argv.slice(2);
const rootArg = args.includes('--root') ? args[args.indexOf('--root') + 1] : undefined;
const root = resolve(rootArg ?? 'packages/resilience-core/src');
const json = args.includes('--json');

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts)$/.test(name) && !/\.test\.ts$/.test(name)) out.push(path);
  }
  return out;
}

/** The graph node of a file: its top-level folder, or the file itself at the root. */
function nodeOf(file: string): string {
  const rel = relative(root, file);
  const first = rel.split(sep)[0] ?? rel;
  return rel.includes(sep) ? first : first.replace(/\.(ts|mts|cts)$/, '.ts');
}

const edges = new Map<string, Map<string, string>>(); // from → (to → one example import)
for (const file of sourceFiles(root)) {
  const from = nodeOf(file);
  if (!edges.has(from)) edges.set(from, new Map());
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = match[1] ?? match[2];
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(root + sep)) continue;
    const to = nodeOf(target);
    if (to !== from && !edges.get(from)!.has(to))
      edges.get(from)!.set(to, `${relative(root, file)} → ${spec}`);
  }
}

/** Tarjan's strongly connected components; returns those with more than one node. */
function cycles(): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!indices.has(v)) visit(v);
  return found;
}

const found = cycles();
if (json) {
  const out = {
    root: relative(process.cwd(), root) || '.',
    edges: Object.fromEntries([...edges].map(([from, tos]) => [from, [...tos.keys()].sort()])),
    cycles: found,
  };
  console.log(JSON.stringify(out, null, 2));
} else {
  console.log(`folder dependencies of ${relative(process.cwd(), root) || '.'}`);
  for (const from of [...edges.keys()].sort()) {
    const tos = [...(edges.get(from)?.keys() ?? [])].sort();
    console.log(`  ${from.padEnd(18)} → ${tos.length ? tos.join(', ') : '(nothing)'}`);
  }
  if (found.length === 0) console.log('no folder cycles');
  for (const component of found) {
    console.log(`cycle: ${component.join(' ⇄ ')}`);
    for (const from of component)
      for (const [to, example] of edges.get(from) ?? [])
        if (component.includes(to)) console.log(`    ${from} → ${to}  (${example})`);
  }
}
process.exitCode = found.length === 0 ? 0 : 1;
