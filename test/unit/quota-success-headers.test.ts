import createRecognition from 'fn-create-recognition/src/main.ts';
import { ResilienceError } from 'resilience-core';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { forgetKnownAlerts, quotaExceededError, tightestDecision } from 'resilience-core/quota';
import { toResponse } from 'resilience-core/runtime';
import { invoke } from 'resilience-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';

function setup() {
  const f = quotaFixture(); // clock at 2026-03-10T12:00Z (UTC org): the day resets in 12 h, the hour in 1 h
  const orgs = new MemoryOrgDirectory({ [ORG]: { alice: ['owner'], bob: [], carol: [] } });
  const fn = createRecognition.with({ store: f.store, orgs, clock: f.clock, env: {} });
  const bob = (body: Record<string, unknown>) =>
    invoke(fn, { method: 'POST', path: '/recognitions', body, headers: { 'x-appwrite-user-id': 'bob' } });
  return { f, bob };
}

const give = (extra: Record<string, unknown> = {}) => ({
  orgId: ORG,
  receiverId: 'carol',
  message: 'thanks!',
  ...extra,
});

beforeEach(() => forgetKnownAlerts());

describe('RateLimit headers on successful recognitions', () => {
  it('a 201 carries RateLimit-* of the tightest quota consumed (lowest remaining)', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 5, api_calls_per_hour: 100 } });
    const first = await bob(give());
    expect(first.status).toBe(201);
    expect(first.headers).toMatchObject({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '4',
      'RateLimit-Reset': String(12 * 3600),
    });
    // No Retry-After on a success.
    expect(Object.keys(first.headers).map((k) => k.toLowerCase())).not.toContain('retry-after');
  });

  it('switches to the quota closest to refusing: the hourly api quota once it is tighter', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 50, api_calls_per_hour: 3 } });
    const res = await bob(give());
    expect(res.headers).toMatchObject({
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': '3600',
    });
  });

  it('reward points count when the recognition carries points', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { reward_points_per_month: 100 } });
    const res = await bob(give({ points: 98 }));
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ 'RateLimit-Limit': '100', 'RateLimit-Remaining': '2' });
  });

  it('a repeated requestId (200) reports the units it was refunded', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 5 } });
    const body = give({ requestId: 'req-7' });
    expect((await bob(body)).headers['RateLimit-Remaining']).toBe('4');
    const again = await bob(body);
    expect(again.status).toBe(200);
    // The duplicate consumed then refunded its unit: 4 remain, not 3.
    expect(again.headers).toMatchObject({ 'RateLimit-Limit': '5', 'RateLimit-Remaining': '4' });
    expect((await bob(give())).headers['RateLimit-Remaining']).toBe('3');
  });

  it('shadow quotas are not advertised: only enforced quotas appear in the headers', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, {
      overrides: { recognitions_per_day: 1, api_calls_per_hour: 40 },
      shadow: ['recognitions_per_day'],
    });
    const res = await bob(give());
    expect(res.status).toBe(201);
    expect(res.headers).toMatchObject({ 'RateLimit-Limit': '40', 'RateLimit-Remaining': '39' });
  });

  it('tightestDecision breaks ties on the sooner reset, puts gauges last and skips shadow quotas', async () => {
    const f = quotaFixture();
    const q = f.service();
    await f.configure(ORG, {
      overrides: { recognitions_per_day: 10, api_calls_per_hour: 10, active_users: 10 },
    });
    const many = await q.consumeMany(ORG, [
      { quotaType: 'active_users' },
      { quotaType: 'recognitions_per_day' },
      { quotaType: 'api_calls_per_hour' },
    ]);
    expect(tightestDecision(many.decisions)?.quotaType).toBe('api_calls_per_hour');
    const gaugeOnly = many.decisions.filter((d) => d.quotaType === 'active_users');
    expect(tightestDecision(gaugeOnly)?.quotaType).toBe('active_users');
    expect(tightestDecision(many.decisions.map((d) => ({ ...d, shadow: true })))).toBeNull();
  });
});

describe('QUOTA_EXCEEDED responses and Retry-After', () => {
  it('a gauge refusal sends no Retry-After (it never resets), only RateLimit-Limit/-Remaining', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { active_users: 2 } });
    const q = f.service();
    const refused = await q.consume(ORG, 'active_users', 3);
    expect(refused.allowed).toBe(false);
    const response = toResponse(quotaExceededError(refused));
    expect(response.status).toBe(429);
    expect(response.headers).toEqual({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '2' });
    expect(response.body.error.details).toMatchObject({ quotaType: 'active_users', resetsAt: null });
  });

  it('a windowed refusal sends Retry-After = seconds until the window resets', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 1 } });
    const q = f.service();
    await q.consume(ORG, 'exports_per_day');
    const response = toResponse(quotaExceededError(await q.consume(ORG, 'exports_per_day')));
    expect(response.headers).toMatchObject({ 'retry-after': String(12 * 3600), 'RateLimit-Reset': '43200' });
  });

  it('other QUOTA_EXCEEDED errors without their own value keep the 60 s default; null opts out', () => {
    expect(toResponse(new ResilienceError('QUOTA_EXCEEDED', 'x')).headers['retry-after']).toBe('60');
    expect(
      toResponse(new ResilienceError('QUOTA_EXCEEDED', 'x', { retryAfterSeconds: null })).headers,
    ).toEqual({});
    expect(toResponse(new ResilienceError('CIRCUIT_OPEN', 'x', { retryAfterSeconds: null })).headers).toEqual(
      {},
    );
  });
});

describe('429 and 503 bodies carry what the headers say (SDK callers of createExecution see only the body)', () => {
  it('a windowed quota refusal: retryAfterSeconds and the RateLimit figures in the body', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 1 } });
    const q = f.service();
    await q.consume(ORG, 'exports_per_day');
    const response = toResponse(quotaExceededError(await q.consume(ORG, 'exports_per_day')));
    expect(response.status).toBe(429);
    expect(response.body.error.retryAfterSeconds).toBe(12 * 3600);
    expect(response.body.error.rateLimit).toEqual({ limit: 1, remaining: 0, resetSeconds: 12 * 3600 });
    expect(Number(response.headers['retry-after'])).toBe(response.body.error.retryAfterSeconds);
  });

  it('a gauge refusal: retryAfterSeconds null (waiting does not help) and no reset', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { active_users: 2 } });
    const response = toResponse(quotaExceededError(await f.service().consume(ORG, 'active_users', 3)));
    expect(response.body.error).toMatchObject({
      retryAfterSeconds: null,
      rateLimit: { limit: 2, remaining: 2, resetSeconds: null },
    });
  });

  it('every 429/503 code carries retryAfterSeconds; other statuses do not', () => {
    const cases: [ResilienceError, number | null][] = [
      [new ResilienceError('RATE_LIMITED', 'x'), 1],
      [new ResilienceError('RETRYABLE', 'x', { retryAfterSeconds: 2.2 }), 3],
      [new ResilienceError('CIRCUIT_OPEN', 'x'), 5],
      [new ResilienceError('CIRCUIT_OPEN', 'x', { retryAfterSeconds: null }), null],
      [new ResilienceError('OUTCOME_UNKNOWN', 'x'), 1],
      [new ResilienceError('QUOTA_EXCEEDED', 'x'), 60],
    ];
    for (const [error, seconds] of cases) {
      const out = toResponse(error);
      expect([429, 503], error.code).toContain(out.status);
      expect(out.body.error.retryAfterSeconds, error.code).toBe(seconds);
      expect(out.headers['retry-after'], error.code).toBe(seconds === null ? undefined : String(seconds));
    }
    expect('retryAfterSeconds' in toResponse(new ResilienceError('CONFLICT', 'x')).body.error).toBe(false);
  });

  it('a refused recognition through the function: the 429 body names retryAfterSeconds and the figures', async () => {
    const { f, bob } = setup();
    await f.configure(ORG, { overrides: { recognitions_per_day: 1, api_calls_per_hour: 100 } });
    expect((await bob(give())).status).toBe(201);
    const refused = await bob(give());
    expect(refused.status).toBe(429);
    expect((refused.body as { error: Record<string, unknown> }).error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      retryAfterSeconds: 12 * 3600,
      rateLimit: { limit: 1, remaining: 0, resetSeconds: 12 * 3600 },
    });
  });
});
