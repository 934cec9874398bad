import type { ResolvedCircuitBreakerOptions } from './options.ts';

/**
 * Sliding windows of call outcomes and the pure rule that judges them. Two shapes:
 * - {@link LocalWindow}: this process's outcomes, exact (a ring of the last N calls, or time buckets).
 * - {@link BucketCounts}: outcome counts per time bucket, the shape shared fleet-wide in the
 *   `circuit-breaker-buckets` table; {@link aggregateBuckets} turns them into window totals.
 */

/** Outcome kinds, as stored: index into a {@link Counts4}. */
export const OUTCOME_KINDS = ['ok', 'fail', 'slowOk', 'slowFail'] as const;
/** Counts per outcome kind: `[ok, fail, slowOk, slowFail]`. */
export type Counts4 = [number, number, number, number];

/** Window totals a verdict is computed from. */
export interface WindowCounts {
  calls: number;
  failures: number;
  slow: number;
}

/** Outcome counts keyed by bucket start (epoch ms). */
export type BucketCounts = Map<number, Counts4>;

/** Adds `by` outcomes of kind `kind` to the bucket starting at `bucketStart`. */
export function addToBuckets(buckets: BucketCounts, bucketStart: number, kind: number, by = 1): void {
  let c = buckets.get(bucketStart);
  if (!c) {
    c = [0, 0, 0, 0];
    buckets.set(bucketStart, c);
  }
  c[kind] = (c[kind] ?? 0) + by;
}

/** Sums several bucket maps into a new one. */
export function mergeBuckets(...maps: readonly BucketCounts[]): BucketCounts {
  const out: BucketCounts = new Map();
  for (const m of maps)
    for (const [start, c] of m) for (let k = 0; k < 4; k++) if (c[k]) addToBuckets(out, start, k, c[k]);
  return out;
}

/** The start of the bucket holding `now`. */
export function bucketStartOf(now: number, bucketMs: number): number {
  return now - (now % bucketMs);
}

/**
 * Window totals from bucket counts at `now`. Time windows sum the buckets overlapping the last `durationMs`;
 * count windows take the newest buckets until they hold `size` calls, scaling the oldest one taken so the
 * total is exactly `size` (bucket granularity is the price of adding up many executions without coordination).
 */
export function aggregateBuckets(
  buckets: BucketCounts,
  window: ResolvedCircuitBreakerOptions['window'],
  now: number,
): WindowCounts {
  const total: WindowCounts = { calls: 0, failures: 0, slow: 0 };
  if (window.type === 'time') {
    const from = now - window.durationMs;
    for (const [start, c] of buckets) {
      if (start + window.bucketMs <= from || start > now) continue;
      addCounts(total, c, 1);
    }
    return total;
  }
  const starts = [...buckets.keys()].filter((s) => s <= now).sort((a, b) => b - a);
  for (const start of starts) {
    const c = buckets.get(start)!;
    const calls = c[0] + c[1] + c[2] + c[3];
    if (calls === 0) continue;
    const room = window.size - total.calls;
    if (calls <= room) addCounts(total, c, 1);
    else {
      addCounts(total, c, room / calls);
      break;
    }
    if (total.calls >= window.size) break;
  }
  return total;
}

function addCounts(total: WindowCounts, c: Counts4, scale: number): void {
  total.calls += (c[0] + c[1] + c[2] + c[3]) * scale;
  total.failures += (c[1] + c[3]) * scale;
  total.slow += (c[2] + c[3]) * scale;
}

/** Why a window trips the breaker, or `null` when it does not. */
export function judgeWindow(counts: WindowCounts, o: ResolvedCircuitBreakerOptions): string | null {
  const minimum = o.window.type === 'count' ? Math.min(o.minimumCalls, o.window.size) : o.minimumCalls;
  // A tiny epsilon: scaled count windows produce fractions like 9.999999.
  if (counts.calls + 1e-9 < minimum) return null;
  const failureRate = (counts.failures / counts.calls) * 100;
  if (failureRate + 1e-9 >= o.failureRateThreshold) {
    return `failure rate ${round(failureRate)}% >= ${o.failureRateThreshold}% over ${round(counts.calls)} calls`;
  }
  const slowRate = (counts.slow / counts.calls) * 100;
  if (o.slowCallDurationMs !== undefined && slowRate + 1e-9 >= o.slowCallRateThreshold) {
    return `slow-call rate ${round(slowRate)}% >= ${o.slowCallRateThreshold}% over ${round(counts.calls)} calls`;
  }
  return null;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** This process's own outcomes: an exact ring of the last `size` calls, or time buckets. */
export class LocalWindow {
  private readonly ring: Uint8Array | null;
  private ringAt = 0;
  private ringFilled = 0;
  private readonly counts: WindowCounts = { calls: 0, failures: 0, slow: 0 };
  private readonly buckets: BucketCounts = new Map();
  private curStart = Number.NEGATIVE_INFINITY;
  private cur: Counts4 = [0, 0, 0, 0];

  constructor(private readonly window: ResolvedCircuitBreakerOptions['window']) {
    this.ring = window.type === 'count' ? new Uint8Array(window.size) : null;
  }

  /**
   * Successes not yet written into the ring (count windows only). A success run is the hot path's common case:
   * it costs one increment here and is applied to the ring (at most `size` slots) when anything reads or
   * records another kind of outcome.
   */
  private okRun = 0;

  /** Whether successes may be recorded with {@link recordOk} (count windows; time windows need `record`). */
  get lazyOk(): boolean {
    return this.ring !== null;
  }

  /** Records one success in a count window (see {@link lazyOk}); same result as `record(now, 0)`. */
  recordOk(): void {
    this.okRun++;
  }

  /** Records one outcome at `now`. */
  record(now: number, kind: number): void {
    const ring = this.ring;
    if (ring) {
      if (this.okRun > 0) this.applyOkRun(ring);
      if (this.ringFilled === ring.length) this.adjust(ring[this.ringAt]!, -1);
      else this.ringFilled++;
      ring[this.ringAt] = kind;
      if (++this.ringAt === ring.length) this.ringAt = 0;
      this.adjust(kind, 1);
      return;
    }
    if (now < this.curStart || now >= this.curStart + this.window.bucketMs) {
      this.curStart = bucketStartOf(now, this.window.bucketMs);
      let counts = this.buckets.get(this.curStart);
      if (!counts) {
        counts = [0, 0, 0, 0];
        this.buckets.set(this.curStart, counts);
        if (this.buckets.size > 4 * this.bucketsPerWindow()) this.prune(now);
      }
      this.cur = counts;
    }
    this.cur[kind]!++;
  }

  /** Window totals at `now`. */
  totals(now: number): WindowCounts {
    if (this.ring) {
      if (this.okRun > 0) this.applyOkRun(this.ring);
      return { ...this.counts };
    }
    this.prune(now);
    return aggregateBuckets(this.buckets, this.window, now);
  }

  /** Forgets every outcome (a new closed period began). */
  clear(): void {
    this.ring?.fill(0);
    this.okRun = 0;
    this.ringAt = 0;
    this.ringFilled = 0;
    this.counts.calls = this.counts.failures = this.counts.slow = 0;
    this.buckets.clear();
    this.curStart = Number.NEGATIVE_INFINITY;
  }

  /** Writes the pending success run into the ring: only the last `size` of them can still be in it. */
  private applyOkRun(ring: Uint8Array): void {
    let n = Math.min(this.okRun, ring.length);
    this.okRun = 0;
    while (n-- > 0) {
      if (this.ringFilled === ring.length) this.adjust(ring[this.ringAt]!, -1);
      else this.ringFilled++;
      ring[this.ringAt] = 0;
      if (++this.ringAt === ring.length) this.ringAt = 0;
      this.counts.calls++;
    }
  }

  private adjust(kind: number, by: number): void {
    this.counts.calls += by;
    if (kind & 1) this.counts.failures += by;
    if (kind & 2) this.counts.slow += by;
  }

  private bucketsPerWindow(): number {
    return this.window.type === 'time' ? Math.ceil(this.window.durationMs / this.window.bucketMs) + 1 : 1;
  }

  private prune(now: number): void {
    if (this.window.type !== 'time') return;
    const from = now - this.window.durationMs - this.window.bucketMs;
    for (const start of this.buckets.keys()) if (start < from) this.buckets.delete(start);
    if (!this.buckets.has(this.curStart)) this.curStart = Number.NEGATIVE_INFINITY;
  }
}
