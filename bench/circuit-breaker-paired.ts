import { pathToFileURL } from 'node:url';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { CircuitBreaker } from 'resilience-core/circuit-breaker';
import { median, timePerCall } from './lib.ts';

/**
 * The paired measurement behind `breaker.closed.ratio`, shared by `circuit-breaker.bench.ts` and run by it in
 * fresh processes (`node --import tsx bench/circuit-breaker-paired.ts <rounds> <ms>` prints the per-round
 * ratios as JSON): ours and cockatiel 3 (ConsecutiveBreaker(5), no retry policy) around the same async no-op,
 * timed back to back each round. A fresh process per sample keeps one process's JIT and heap history (which
 * shifts a whole run's figure) from deciding the result: the bench reports the median over processes.
 */

/**
 * Per-round ratios a/b: each round times `a` and `b` back to back (ms each, after 200 warm-up calls), the order
 * alternating so neither always runs first. The first round warms both up with 2,000 calls.
 */
export async function pairedRatios(
  a: () => unknown | Promise<unknown>,
  b: () => unknown | Promise<unknown>,
  rounds: number,
  ms: number,
): Promise<number[]> {
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const warmup = r === 0 ? 2000 : 200;
    let ta: number;
    let tb: number;
    if (r % 2 === 0) {
      ta = await timePerCall(a, ms, warmup);
      tb = await timePerCall(b, ms, warmup);
    } else {
      tb = await timePerCall(b, ms, warmup);
      ta = await timePerCall(a, ms, warmup);
    }
    ratios.push(ta / tb);
  }
  return ratios;
}

/** Lower and upper quartiles. */
export function quartiles(values: number[]): [number, number] {
  const s = [...values].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
  return [at(0.25), at(0.75)];
}

/** The two candidates, set up as the bench sets them up (ours shared over a memory store, warm). */
export async function pairedCandidates() {
  const noop = async () => undefined;
  const ours = new CircuitBreaker('bench', {}, { store: new MemoryTableStore() });
  await ours.execute(noop); // cold start: the one state read
  const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
  return { ours: () => ours.execute(noop), cockatiel: () => cockatiel.execute(noop) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rounds = Number(process.argv[2] ?? 31);
  const ms = Number(process.argv[3] ?? 60);
  const { ours, cockatiel } = await pairedCandidates();
  const ratios = await pairedRatios(ours, cockatiel, rounds, ms);
  process.stdout.write(`${JSON.stringify({ median: median(ratios), ratios })}\n`);
}
