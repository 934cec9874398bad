import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench, BenchContext, Figure } from './lib.ts';

/**
 * Runs every bench/*.bench.ts (or those named on the command line) and writes bench/results.json. A partial run
 * replaces only the figures of the benches it ran and keeps the others.
 */
const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const ctx: BenchContext = {
  table(title, rows) {
    console.log(`\n${title}`);
    console.table(rows);
  },
  log(message) {
    console.log(message);
  },
};

const results: (Figure & { bench: string })[] = [];
let failed = 0;
for (const file of files) {
  const bench = (await import(join(here, file))).default as Bench;
  console.log(`\n=== ${bench.name} (${file}) ===`);
  try {
    for (const figure of await bench.run(ctx)) results.push({ bench: bench.name, ...figure });
  } catch (error) {
    failed++;
    console.error(`bench ${bench.name} failed:`, error);
  }
}

console.log('\n=== Summary ===');
console.table(
  results.map((r) => ({
    bench: r.bench,
    figure: r.name,
    value: Number(r.value.toPrecision(4)),
    unit: r.unit,
    peer: r.peer ?? '',
    peerValue: r.peerValue === undefined ? '' : Number(r.peerValue.toPrecision(4)),
    target: r.target ?? '',
    pass: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
  })),
);
const resultsPath = join(here, 'results.json');
const ran = new Set(results.map((r) => r.bench));
const kept: (Figure & { bench: string })[] =
  only.length > 0 && existsSync(resultsPath)
    ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as (Figure & { bench: string })[]).filter(
        (r) => !ran.has(r.bench),
      )
    : [];
writeFileSync(resultsPath, `${JSON.stringify([...kept, ...results], null, 2)}\n`);
console.log(`wrote bench/results.json (${results.length} figures)`);
process.exit(failed ? 1 : 0);
