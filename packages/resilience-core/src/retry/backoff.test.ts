import { describe, expect, it } from 'vitest';
import { type Backoff, backoffCeiling, backoffDelay, type Jitter } from './backoff.ts';

/** Seeded random in [0, 1) (mulberry32), so every run draws the same values. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const JITTERS: Jitter[] = ['full', 'equal', 'band', 'none'];

describe('backoffDelay (the one backoff)', () => {
  it('ceiling: base × factor^(retry−1), capped, finite on overflow, monotone in retry', () => {
    expect(backoffCeiling(1, { baseMs: 100, maxMs: 10_000 })).toBe(100);
    expect(backoffCeiling(4, { baseMs: 100, maxMs: 10_000 })).toBe(800);
    expect(backoffCeiling(3, { baseMs: 100, maxMs: 10_000, factor: 3 })).toBe(900);
    expect(backoffCeiling(0, { baseMs: 100, maxMs: 10_000 })).toBe(100);
    expect(backoffCeiling(5_000, { baseMs: 100, maxMs: 10_000, factor: 10 })).toBe(10_000);
    expect(backoffCeiling(5_000, { baseMs: 0, maxMs: 7, factor: 10 })).toBe(7);
    const random = seeded(1);
    for (let i = 0; i < 200; i++) {
      const b = {
        baseMs: 1 + Math.floor(random() * 5_000),
        maxMs: 1 + Math.floor(random() * 100_000),
        factor: 1 + random() * 3,
      };
      let previous = 0;
      for (let retry = 1; retry <= 60; retry++) {
        const c = backoffCeiling(retry, b);
        expect(c).toBeGreaterThanOrEqual(previous);
        expect(c).toBeLessThanOrEqual(b.maxMs);
        previous = c;
      }
    }
  });

  it('each jitter stays in its range on a seeded random, in whole milliseconds', () => {
    const random = seeded(42);
    for (let i = 0; i < 2_000; i++) {
      const b: Omit<Backoff, 'jitter'> = {
        baseMs: 1 + Math.floor(random() * 2_000),
        maxMs: 1 + Math.floor(random() * 60_000),
      };
      const retry = 1 + Math.floor(random() * 40);
      const c = backoffCeiling(retry, b);
      for (const jitter of JITTERS) {
        const d = backoffDelay(retry, { ...b, jitter }, random);
        expect(Number.isInteger(d)).toBe(true);
        if (jitter === 'full') expect(d >= 0 && d < Math.max(1, c)).toBe(true);
        if (jitter === 'equal') expect(d >= Math.floor(c / 2) && d <= c).toBe(true);
        if (jitter === 'band') {
          expect(d).toBeGreaterThanOrEqual(Math.min(b.maxMs, Math.max(1, Math.round(c * 0.8))));
          expect(d).toBeLessThanOrEqual(Math.min(b.maxMs, Math.round(c * 1.2)));
        }
        if (jitter === 'none') expect(d).toBe(Math.floor(c));
      }
    }
  });

  it('fixed values per jitter; a random source outside [0, 1) is clamped', () => {
    const b = { baseMs: 100, maxMs: 10_000 };
    expect(backoffDelay(3, { ...b, jitter: 'full' }, () => 0.5)).toBe(200);
    expect(backoffDelay(3, { ...b, jitter: 'equal' }, () => 0)).toBe(200);
    expect(backoffDelay(3, { ...b, jitter: 'equal' }, () => 0.5)).toBe(300);
    expect(backoffDelay(3, { ...b, jitter: 'band' }, () => 0)).toBe(320);
    expect(backoffDelay(3, { ...b, jitter: 'band' }, () => 0.5)).toBe(400);
    expect(backoffDelay(3, { ...b, jitter: 'none' }, () => 0.9)).toBe(400);
    expect(backoffDelay(3, { ...b, jitter: 'full' }, () => 7)).toBe(399);
    expect(backoffDelay(3, { ...b, jitter: 'full' }, () => -1)).toBe(0);
    expect(backoffDelay(30, { ...b, jitter: 'band' }, () => 0.99)).toBe(10_000);
  });
});
