import { quotaNotifierFromWebhooks } from 'resilience-core/notify';
import { crossedThresholds, summaryOf, thresholdUnits } from 'resilience-core/quota';
import { describe, expect, it } from 'vitest';

describe('alert thresholds', () => {
  it('80 % and 100 % of a limit, rounded up, at least one unit', () => {
    expect(thresholdUnits(1000, 80)).toBe(800);
    expect(thresholdUnits(7, 80)).toBe(6); // 5.6 → 6
    expect(thresholdUnits(1, 80)).toBe(1);
    expect(thresholdUnits(7, 100)).toBe(7);
  });

  it.each([
    { limit: 10, before: 7, after: 8, crossed: [80] },
    { limit: 10, before: 8, after: 9, crossed: [] },
    { limit: 10, before: 9, after: 10, crossed: [100] },
    { limit: 10, before: 0, after: 10, crossed: [80, 100] },
    { limit: 10, before: 10, after: 10, crossed: [] },
    { limit: 10, before: null, after: 9, crossed: [80] },
    { limit: 10, before: null, after: 7, crossed: [] },
    { limit: 0, before: 0, after: 3, crossed: [] },
    { limit: 1, before: 0, after: 1, crossed: [80, 100] },
  ])('limit $limit, $before → $after crosses $crossed', ({ limit, before, after, crossed }) => {
    expect(crossedThresholds(limit, before, after)).toEqual(crossed);
  });

  it('custom thresholds', () => {
    expect(crossedThresholds(100, 40, 95, [50, 90])).toEqual([50, 90]);
  });
});

describe('period summary', () => {
  it('totals each quota over its closed windows and names the peak window', () => {
    const n = summaryOf('org-a', '2026-03-12', [
      {
        orgId: 'org-a',
        quotaType: 'api_calls_per_hour',
        windowKey: '2026-03-11T09',
        windowStart: 'a',
        windowEnd: 'b',
        timeZone: 'UTC',
        used: 30,
        limit: 100,
        summarized: false,
      },
      {
        orgId: 'org-a',
        quotaType: 'api_calls_per_hour',
        windowKey: '2026-03-11T10',
        windowStart: 'a',
        windowEnd: 'b',
        timeZone: 'UTC',
        used: 90,
        limit: 100,
        summarized: false,
      },
      {
        orgId: 'org-a',
        quotaType: 'exports_per_day',
        windowKey: '2026-03-11',
        windowStart: 'a',
        windowEnd: 'b',
        timeZone: 'UTC',
        used: 2,
        limit: 50,
        summarized: false,
      },
    ]);
    expect(n).toMatchObject({
      kind: 'summary',
      orgId: 'org-a',
      severity: 'info',
      title: 'Quota usage summary (2026-03-12)',
    });
    expect(n.text.split('\n')).toEqual([
      'api_calls_per_hour: 120 calls over 2 window(s); peak 90/100 (90%) in 2026-03-11T10',
      'exports_per_day: 2 exports over 1 window(s); peak 2/50 (4%) in 2026-03-11',
    ]);
    expect(n.fields).toMatchObject({ 'api_calls_per_hour.total': 120, 'api_calls_per_hour.peakPercent': 90 });
  });
});

describe('quotaNotifierFromWebhooks', () => {
  const notification = {
    kind: 'threshold' as const,
    orgId: 'org-a',
    title: 'exports_per_day at 80% (40 / 50)',
    text: 'Your organization has used 40 of 50 exports.',
    severity: 'warning' as const,
    fields: { quotaType: 'exports_per_day', used: 40 },
    dedupeKey: 'qa-123',
  };

  it('sends title, text and fields to every channel with the alert id as idempotency key', async () => {
    const calls: unknown[] = [];
    const n = quotaNotifierFromWebhooks({
      notify: async (orgId, message, options) => {
        calls.push({ orgId, message, options });
        return [{ channel: 'slack', status: 'sent' }];
      },
    });
    await n.notify(notification);
    expect(calls).toEqual([
      {
        orgId: 'org-a',
        message: {
          title: '[org-a] exports_per_day at 80% (40 / 50)',
          text: 'Your organization has used 40 of 50 exports.\nquotaType: exports_per_day\nused: 40',
        },
        options: { idempotencyKey: 'quota:qa-123' },
      },
    ]);
  });

  it('a deferred channel (breaker open → job queue) counts as accepted; all channels refusing throws', async () => {
    const deferred = quotaNotifierFromWebhooks({
      notify: async () => [
        { channel: 'slack', status: 'deferred', reason: 'circuit-open' },
        { channel: 'teams', status: 'failed', reason: 'DEPENDENCY_ERROR' },
      ],
    });
    await expect(deferred.notify(notification)).resolves.toBeUndefined();
    const refused = quotaNotifierFromWebhooks({
      notify: async () => [{ channel: 'slack', status: 'failed', reason: 'DEPENDENCY_ERROR: 404' }],
    });
    await expect(refused.notify(notification)).rejects.toThrow(/every channel refused/);
  });
});
