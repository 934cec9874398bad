/**
 * The half-open gate of one breaker, as far as this execution decides it alone: when every shared probe slot
 * was found taken (so calls are turned away as `half-open-full` without asking the store again until then),
 * and the probes admitted and succeeded locally — without a store, or while it is unreachable — per OPEN
 * version. The shared slots themselves are rows (`SharedCircuitStore.claimProbe`).
 */
export class ProbeGate {
  /** Until when (epoch ms) every shared slot is known to be taken. */
  private fullUntil = 0;
  /** Local probes of the half-open episode of OPEN `version`. */
  private local = { version: -1, admitted: 0, successes: 0 };

  constructor(private readonly maxProbes: number) {}

  /** Whether the shared slots are known to be full at `now`. */
  isFull(now: number): boolean {
    return now < this.fullUntil;
  }

  /** Records that every shared slot was taken, until `until`. */
  markFull(until: number): void {
    this.fullUntil = until;
  }

  /** Forgets the full mark (a new version: new slots). */
  reopen(): void {
    this.fullUntil = 0;
  }

  /** Admits a local probe of OPEN `version`; `false` when `maxProbes` were admitted already. */
  admitLocal(version: number): boolean {
    if (this.local.version !== version) this.local = { version, admitted: 0, successes: 0 };
    if (this.local.admitted >= this.maxProbes) return false;
    this.local.admitted++;
    return true;
  }

  /** Counts a local probe's success for OPEN `version`; the successes so far, or `null` for another version. */
  localSuccess(version: number): number | null {
    if (this.local.version !== version) return null;
    return ++this.local.successes;
  }
}
