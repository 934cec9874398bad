import { errors, hasCode, ResilienceError } from 'resilience-core';
import { CircuitBreaker } from 'resilience-core/circuit-breaker';
import { fullJitterDelay, parseRetryAfter, retry, retryAfterMs, withTimeout } from 'resilience-core/retry';
import { ManualClock } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { clientError, serverError } from '../circuit-breaker-helpers.ts';

/** Runs `work` while moving the manual clock far ahead, so every sleep inside it is woken in order. */
async function drive<T>(clock: ManualClock, work: Promise<T>, ms = 600_000): Promise<T> {
  const settled = work.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  await clock.advance(ms);
  const r = await settled;
  if (r.ok) return r.v;
  throw r.e;
}

function failingTimes<T>(n: number, error: () => unknown, value: T) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= n) throw error();
    return value;
  };
  return { fn, calls: () => calls };
}

describe('fullJitterDelay', () => {
  it('draws from [0, min(max, base * 2^(retry-1)))', () => {
    expect(fullJitterDelay(1, { baseDelayMs: 100 }, () => 0.999)).toBe(99);
    expect(fullJitterDelay(4, { baseDelayMs: 100 }, () => 0.5)).toBe(400);
    expect(fullJitterDelay(30, { baseDelayMs: 100, maxDelayMs: 5_000 }, () => 0.999)).toBe(4995);
    expect(fullJitterDelay(3, {}, () => 0)).toBe(0);
  });
});

describe('retry', () => {
  it('retries an idempotent call with growing jittered delays until it succeeds', async () => {
    const clock = new ManualClock();
    const dep = failingTimes(2, serverError, 'done');
    const delays: number[] = [];
    const result = await drive(
      clock,
      retry(dep.fn, {
        idempotent: true,
        maxAttempts: 5,
        clock,
        random: () => 0.5,
        onRetry: (i) => delays.push(i.delayMs),
      }),
    );
    expect(result).toBe('done');
    expect(dep.calls()).toBe(3);
    expect(delays).toEqual([50, 100]);
  });

  it('stops after maxAttempts and throws the last error', async () => {
    const clock = new ManualClock();
    const dep = failingTimes(10, serverError, 'never');
    const error = await drive(clock, retry(dep.fn, { idempotent: true, maxAttempts: 3, clock })).catch(
      (e: unknown) => e,
    );
    expect(hasCode(error, 'DEPENDENCY_ERROR')).toBe(true);
    expect(dep.calls()).toBe(3);
  });

  it('does not retry a non-idempotent call unless the error proves it was never processed', async () => {
    const clock = new ManualClock();
    const post = failingTimes(1, serverError, 'created');
    await expect(drive(clock, retry(post.fn, { clock }))).rejects.toMatchObject({ code: 'DEPENDENCY_ERROR' });
    expect(post.calls()).toBe(1);
    const refused = failingTimes(
      1,
      () => Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      'created',
    );
    expect(await drive(clock, retry(refused.fn, { clock }))).toBe('created');
    expect(refused.calls()).toBe(2);
  });

  it('does not retry a dependency 4xx, a breaker rejection or an unknown bug', async () => {
    const clock = new ManualClock();
    for (const error of [
      clientError(),
      new ResilienceError('CIRCUIT_OPEN', 'open'),
      new TypeError('x is undefined'),
    ]) {
      const dep = failingTimes(1, () => error, 'ok');
      await expect(drive(clock, retry(dep.fn, { idempotent: true, clock }))).rejects.toBe(error);
      expect(dep.calls()).toBe(1);
    }
  });

  it('honours Retry-After from retryAfterSeconds and from a response header', async () => {
    const clock = new ManualClock();
    const delays: number[] = [];
    const rateLimited = failingTimes(1, () => errors.retryable('slow down', undefined, 7), 'ok');
    await drive(
      clock,
      retry(rateLimited.fn, {
        idempotent: true,
        clock,
        random: () => 0,
        onRetry: (i) => delays.push(i.delayMs),
      }),
    );
    const response = { status: 503, headers: new Headers({ 'retry-after': '3' }) };
    const unavailable = failingTimes(
      1,
      () => Object.assign(new Error('503'), { status: 503, response }),
      'ok',
    );
    await drive(
      clock,
      retry(unavailable.fn, {
        idempotent: true,
        clock,
        random: () => 0,
        onRetry: (i) => delays.push(i.delayMs),
      }),
    );
    expect(delays).toEqual([7_000, 3_000]);
  });

  it('gives up at once when Retry-After would pass maxElapsedMs', async () => {
    const clock = new ManualClock();
    const dep = failingTimes(1, () => errors.retryable('later', undefined, 120), 'ok');
    const started = clock.now();
    await expect(
      drive(clock, retry(dep.fn, { idempotent: true, clock, maxElapsedMs: 60_000 }), 0),
    ).rejects.toMatchObject({
      code: 'RETRYABLE',
    });
    expect(clock.now() - started).toBe(0);
    expect(dep.calls()).toBe(1);
  });

  it('times out each attempt through its AbortSignal, then retries', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const aborted: boolean[] = [];
    const fn = (signal: AbortSignal | undefined) => {
      attempts++;
      if (attempts > 1) return Promise.resolve('fast');
      return new Promise<string>((_, reject) =>
        signal?.addEventListener('abort', () => {
          aborted.push(true);
          reject(signal.reason);
        }),
      );
    };
    expect(await drive(clock, retry(fn, { idempotent: true, attemptTimeoutMs: 1_000, clock }))).toBe('fast');
    expect(attempts).toBe(2);
    expect(aborted).toEqual([true]);
  });

  it('composes with a breaker: once it opens, retrying stops with CIRCUIT_OPEN', async () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker(
      'composed',
      { window: { type: 'count', size: 4 }, minimumCalls: 3 },
      { clock },
    );
    const dep = failingTimes(100, serverError, 'never');
    const error = await drive(
      clock,
      retry(() => breaker.execute(dep.fn), { idempotent: true, maxAttempts: 10, clock }),
    ).catch((e: unknown) => e);
    expect(hasCode(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(dep.calls()).toBe(3);
  });
});

describe('Retry-After parsing and withTimeout', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryAfterMs({ headers: { 'Retry-After': '2' } }, now)).toBe(2_000);
    expect(retryAfterMs(new Error('plain'), now)).toBeUndefined();
  });

  it('rejects with the outer signal reason when aborted from outside', async () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const p = withTimeout(() => new Promise(() => undefined), 1_000, { clock, signal: outer.signal });
    outer.abort(new Error('caller went away'));
    await expect(p).rejects.toThrow('caller went away');
  });
});
