import type { Clock } from '../ports/clock.ts';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told. `sleep` resolves when `advance` passes its deadline, so code that
 * backs off or waits runs in tests without real time passing.
 */
export class ManualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];

  constructor(start: number | string = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { at: this.current + Math.max(0, ms), resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, waking every sleeper whose deadline has passed (in deadline order). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > target) break;
      this.sleepers.shift();
      this.current = Math.max(this.current, next.at);
      next.resolve();
      // Let the woken code run up to its next await before waking the next sleeper.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.current = target;
  }

  /** Sets the time (never backwards unless asked). */
  set(ms: number | string): void {
    this.current = typeof ms === 'string' ? Date.parse(ms) : ms;
  }

  /** How many sleepers are waiting (tests). */
  get pending(): number {
    return this.sleepers.length;
  }
}
