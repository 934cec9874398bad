import type { ResolvedCircuitBreakerOptions } from './options.ts';
import {
  aggregateBuckets,
  type BucketCounts,
  bucketStartOf,
  type Counts4,
  mergeBuckets,
  type WindowCounts,
} from './window.ts';

/**
 * What one execution knows of a CLOSED breaker's fleet-wide window, by bucket: the last window read from the
 * shared table (`remote`), the outcomes flushed since that read (still counted until the next read includes
 * them), and the outcomes not yet flushed (`pending`). The breaker's hot path bumps the current pending bucket
 * in place ({@link addOk}); the background flush takes the pending buckets ({@link take}) and writes them as
 * atomic increments. Everything here belongs to one CLOSED version: a transition {@link clear}s it.
 */
export class OutcomeBuffer {
  /** Unflushed outcome counts, by bucket start. */
  private pending: BucketCounts = new Map();
  /** Flushed since the last window read (so projections still include them). */
  private flushedSinceRead: BucketCounts = new Map();
  /** The last fleet-wide window read. */
  private remote: BucketCounts = new Map();
  /** Start of the pending bucket the hot path bumps ({@link currentCounts}); −∞ when there is none. */
  private currentStart = Number.NEGATIVE_INFINITY;
  /** `currentStart + bucketMs`: the current bucket holds times in [currentStart, currentEnd). */
  private currentEnd = Number.NEGATIVE_INFINITY;
  private currentCounts: Counts4 = [0, 0, 0, 0];

  constructor(private readonly bucketMs: number) {}

  /** How many pending buckets wait to be flushed. */
  get pendingBuckets(): number {
    return this.pending.size;
  }

  /** Counts one success at `now` (the hot path: an in-place bump of the current bucket). */
  addOk(now: number): void {
    if (now >= this.currentStart && now < this.currentEnd) this.currentCounts[0]++;
    else this.bucketAt(now)[0]++;
  }

  /** Counts one outcome (kind: 0 ok, 1 fail, 2 slow ok, 3 slow fail) at `now`. */
  add(now: number, kind: number): void {
    if (now >= this.currentStart && now < this.currentEnd) this.currentCounts[kind]!++;
    else this.bucketAt(now)[kind]!++;
  }

  /** Takes the pending buckets for a flush; they keep counting in projections until the next window read. */
  take(): BucketCounts {
    const batch = this.pending;
    this.pending = new Map();
    this.forgetCurrent();
    this.flushedSinceRead = mergeBuckets(this.flushedSinceRead, batch);
    return batch;
  }

  /** Adopts a fresh fleet-wide window read (which includes everything flushed before it). */
  adoptRemote(buckets: BucketCounts): void {
    this.remote = buckets;
    this.flushedSinceRead = new Map();
  }

  /** The fleet-wide window as this execution knows it at `now`. */
  projection(window: ResolvedCircuitBreakerOptions['window'], now: number): WindowCounts {
    return aggregateBuckets(mergeBuckets(this.remote, this.flushedSinceRead, this.pending), window, now);
  }

  /** Forgets everything (a new version: its window starts empty). */
  clear(): void {
    this.pending = new Map();
    this.forgetCurrent();
    this.flushedSinceRead = new Map();
    this.remote = new Map();
  }

  /** Makes the pending bucket holding `now` the current one and returns its counts. */
  private bucketAt(now: number): Counts4 {
    const start = bucketStartOf(now, this.bucketMs);
    this.currentStart = start;
    this.currentEnd = start + this.bucketMs;
    let counts = this.pending.get(start);
    if (!counts) {
      counts = [0, 0, 0, 0];
      this.pending.set(start, counts);
    }
    this.currentCounts = counts;
    return counts;
  }

  private forgetCurrent(): void {
    this.currentStart = Number.NEGATIVE_INFINITY;
    this.currentEnd = Number.NEGATIVE_INFINITY;
  }
}
