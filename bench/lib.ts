/**
 * The bench harness: every `bench/*.bench.ts` default-exports a {@link Bench}; `bench/run.ts` runs them in one
 * process, prints each one's tables and writes every figure to `bench/results.json`.
 * Figures compare with a peer measured in the same run (ratios, not absolute times: these machines are noisy).
 */

/** One reported figure. */
export interface Figure {
  /** What was measured, e.g. `breaker.closed.per-call`. */
  name: string;
  value: number;
  /** e.g. `ns/call`, `ms`, `ratio`, `round-trips/op`, `ops/s`, `bytes`. */
  unit: string;
  /** The peer it is compared with, e.g. `cockatiel` (omit when none). */
  peer?: string;
  /** The peer's value in the same unit, measured in the same run. */
  peerValue?: number;
  /** The target, when the issue names one, e.g. `<= 0.5 x cockatiel`. */
  target?: string;
  /** Whether the target was met (omit when there is none). */
  pass?: boolean;
}

export interface BenchContext {
  /** Prints a titled table of rows. */
  table(title: string, rows: Record<string, string | number>[]): void;
  log(message: string): void;
}

export interface Bench {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

/** Calls `fn` until about `ms` milliseconds pass (after a warm-up) and returns nanoseconds per call. */
export async function timePerCall(
  fn: () => unknown | Promise<unknown>,
  ms = 400,
  warmup = 2000,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 256; i++) await fn();
    calls += 256;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls;
}

/**
 * Runs `candidates` interleaved for `rounds` rounds and returns each one's median ns/call. The order rotates
 * every round so no candidate always runs first (or right after the same neighbour).
 */
export async function compare(
  candidates: Record<string, () => unknown | Promise<unknown>>,
  rounds = 5,
  ms = 200,
): Promise<Record<string, number>> {
  const samples = await compareRounds(candidates, rounds, ms);
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

/**
 * Like {@link compare}, but returns every round's ns/call per candidate (index = round), so a ratio can be taken
 * per round (both sides measured moments apart) and its median reported: steadier than a ratio of medians on a
 * shared machine whose speed drifts during the run. The first round warms each candidate up 2,000 calls.
 */
export async function compareRounds(
  candidates: Record<string, () => unknown | Promise<unknown>>,
  rounds = 5,
  ms = 200,
): Promise<Record<string, number[]>> {
  const entries = Object.entries(candidates);
  const samples: Record<string, number[]> = Object.fromEntries(entries.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, fn] = entries[(i + r) % entries.length]!;
      samples[name]![r] = await timePerCall(fn, ms, r === 0 ? 2000 : 200);
    }
  }
  return samples;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0–100) of values. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
