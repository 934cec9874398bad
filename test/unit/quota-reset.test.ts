import { listAll, type TableStore } from 'resilience-core';
import {
  forgetKnownAlerts,
  historyRowId,
  QUOTA_TABLES,
  type QuotaResetReport,
  runQuotaReset,
} from 'resilience-core/quota';
import { beforeEach, describe, expect, it } from 'vitest';
import { quotaFixture } from '../quota-helpers.ts';

const ORG = 'org-acme';
const OTHER = 'org-beta';
const DAY = 86_400_000;
const WRITES = ['create', 'update', 'upsert', 'delete', 'increment', 'transaction'];

beforeEach(() => forgetKnownAlerts());

function writes(f: ReturnType<typeof quotaFixture>): number {
  return WRITES.reduce((s, m) => s + (f.memory!.stats.byMethod[m] ?? 0), 0);
}

async function snapshot(store: TableStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of Object.values(QUOTA_TABLES)) {
    out[table] = (await listAll(store, table)).map(
      ({ $updatedAt: _u, $sequence: _s, $createdAt: _c, ...rest }) => rest,
    );
  }
  return out;
}

/** Two days of traffic for two orgs: api calls in a few hours, recognitions, exports, storage (a gauge). */
async function traffic(f: ReturnType<typeof quotaFixture>): Promise<void> {
  await f.configure(ORG, { overrides: { recognitions_per_day: 10 }, timeZone: 'America/New_York' });
  for (let day = 0; day < 2; day++) {
    for (const hour of [1, 5, 13]) {
      f.clock.set(Date.parse('2026-03-10T00:00:00Z') + day * DAY + hour * 3_600_000);
      await f.service().consume(ORG, 'api_calls_per_hour', 3 + day);
      await f.service().consume(OTHER, 'recognitions_per_day', 2);
    }
    await f.service().consume(ORG, 'recognitions_per_day', 9);
  }
  await f.service().consume(ORG, 'storage_gb', 40);
}

const zero: QuotaResetReport = {
  incomplete: false,
  reservationsReleased: 0,
  windowsClosed: 0,
  increasesExpired: 0,
  summariesSent: 0,
  alertsRetried: 0,
  historyPruned: 0,
  alertsPruned: 0,
};

describe('quota-reset', () => {
  it('closes finished windows into history, keeps current windows and gauges, and sends one summary per org', async () => {
    const f = quotaFixture();
    await traffic(f);
    f.clock.set('2026-03-12T00:00:00.000Z');
    const report = await runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier });
    // ORG: 6 hourly windows + NY days 03-09 (01:00Z/05:00Z on the 10th) … see below; OTHER: UTC days 10 and 11.
    const history = (await listAll(f.store, QUOTA_TABLES.history)).map(
      (r) => `${r.orgId} ${r.quotaType} ${r.windowKey} ${r.used}/${r.limit}`,
    );
    expect(history.sort()).toEqual(
      [
        'org-acme api_calls_per_hour 2026-03-09T21 3/10000',
        'org-acme api_calls_per_hour 2026-03-10T01 3/10000',
        'org-acme api_calls_per_hour 2026-03-10T09 3/10000',
        'org-acme api_calls_per_hour 2026-03-10T21 4/10000',
        'org-acme api_calls_per_hour 2026-03-11T01 4/10000',
        'org-acme api_calls_per_hour 2026-03-11T09 4/10000',
        'org-acme recognitions_per_day 2026-03-10 9/10',
        'org-beta recognitions_per_day 2026-03-10 6/1000',
        'org-beta recognitions_per_day 2026-03-11 6/1000',
      ].sort(),
    );
    expect(report).toMatchObject({ windowsClosed: 9, summariesSent: 2 });
    const usage = (await listAll(f.store, QUOTA_TABLES.usage)).map((r) => `${r.quotaType} ${r.windowKey}`);
    // NY's 2026-03-11 has not ended at 00:00Z on the 12th (it is 20:00 on the 11th there); the gauge never closes.
    expect(usage.sort()).toEqual(['recognitions_per_day 2026-03-11', 'storage_gb gauge']);
    const summaries = f.notifier.sent.filter((n) => n.kind === 'summary');
    expect(summaries.map((s) => s.orgId).sort()).toEqual([ORG, OTHER]);
    expect(summaries.find((s) => s.orgId === OTHER)?.text).toContain(
      'recognitions_per_day: 12 recognitions over 2 window(s)',
    );
  });

  it('running twice changes nothing: the second run writes nothing and reports zeros', async () => {
    const f = quotaFixture();
    await traffic(f);
    const r = await f.service().reserve(ORG, 'exports_per_day', 2, { ttlMs: 60_000 });
    expect(r.allowed).toBe(true);
    f.clock.set('2026-03-12T00:00:00.000Z');
    const first = await runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier });
    expect(first.reservationsReleased).toBe(1);
    const before = await snapshot(f.store);
    const writesBefore = writes(f);
    const sentBefore = f.notifier.sent.length;
    const second = await runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier });
    expect(second).toEqual(zero);
    expect(writes(f)).toBe(writesBefore);
    expect(await snapshot(f.store)).toEqual(before);
    expect(f.notifier.sent.length).toBe(sentBefore);
  });

  it('two concurrent runs together do what one run does', async () => {
    const f = quotaFixture();
    await traffic(f);
    f.clock.set('2026-03-12T00:00:00.000Z');
    const reports = await Promise.all([
      runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier }),
      runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier }),
    ]);
    expect(reports[0]!.summariesSent + reports[1]!.summariesSent).toBe(2);
    expect(await listAll(f.store, QUOTA_TABLES.history)).toHaveLength(9);
    expect(f.notifier.sent.filter((n) => n.kind === 'summary')).toHaveLength(2);
  });

  it('running late gives the same history as running on time', async () => {
    const onTime = quotaFixture();
    await traffic(onTime);
    for (const day of ['2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14']) {
      onTime.clock.set(`${day}T00:00:00.000Z`);
      await runQuotaReset({ store: onTime.store, clock: onTime.clock });
    }
    const late = quotaFixture();
    await traffic(late);
    late.clock.set('2026-03-14T07:13:00.000Z');
    await runQuotaReset({ store: late.store, clock: late.clock });
    const strip = (rows: Record<string, unknown>[]) =>
      rows.map((r) => `${r.$id} ${r.used}/${r.limit} ${r.windowStart} ${r.windowEnd}`).sort();
    expect(strip(await listAll(late.store, QUOTA_TABLES.history))).toEqual(
      strip(await listAll(onTime.store, QUOTA_TABLES.history)),
    );
    expect(strip(await listAll(late.store, QUOTA_TABLES.history))).toHaveLength(10);
  });

  it('resumes a run that died after copying a window but before deleting it', async () => {
    const f = quotaFixture();
    await f.service().consume(ORG, 'exports_per_day', 3);
    f.clock.set('2026-03-11T00:00:00.000Z');
    // The earlier run's partial work: history copied (with a stale number), usage row still there.
    await f.store.create(QUOTA_TABLES.history, historyRowId(ORG, 'exports_per_day', '2026-03-10'), {
      orgId: ORG,
      quotaType: 'exports_per_day',
      windowKey: '2026-03-10',
      windowStart: '2026-03-10T00:00:00.000+00:00',
      windowEnd: '2026-03-11T00:00:00.000+00:00',
      timeZone: 'UTC',
      used: 2,
      limit: 50,
      summarized: false,
    });
    const report = await runQuotaReset({ store: f.store, clock: f.clock });
    expect(report.windowsClosed).toBe(1);
    const h = await f.store.get(QUOTA_TABLES.history, historyRowId(ORG, 'exports_per_day', '2026-03-10'));
    expect(h).toMatchObject({ used: 3, limit: 50, summarized: true });
    expect(await listAll(f.store, QUOTA_TABLES.usage)).toEqual([]);
  });

  it('retries failed alerts and gives up after the attempt budget', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 1 } });
    f.notifier.failing = true;
    await f.service().consume(ORG, 'exports_per_day');
    f.clock.set('2026-03-10T13:00:00.000Z');
    const failedRun = await runQuotaReset({
      store: f.store,
      clock: f.clock,
      notifier: f.notifier,
      maxAlertAttempts: 3,
    });
    expect(failedRun.alertsRetried).toBe(0);
    f.notifier.failing = false;
    const ok = await runQuotaReset({
      store: f.store,
      clock: f.clock,
      notifier: f.notifier,
      maxAlertAttempts: 3,
    });
    expect(ok.alertsRetried).toBe(2);
    expect(f.notifier.sent.map((n) => n.fields.threshold)).toEqual([80, 100]);
    const again = await runQuotaReset({
      store: f.store,
      clock: f.clock,
      notifier: f.notifier,
      maxAlertAttempts: 3,
    });
    expect(again.alertsRetried).toBe(0);
  });

  it('prunes hourly history after 14 days, other history after the retention, and old alert rows', async () => {
    const f = quotaFixture();
    await f.configure(ORG, { overrides: { exports_per_day: 1 } });
    await f.service().consume(ORG, 'api_calls_per_hour');
    await f.service().consume(ORG, 'exports_per_day');
    f.clock.set('2026-03-11T00:00:00.000Z');
    await runQuotaReset({ store: f.store, clock: f.clock, notifier: f.notifier });
    expect(await listAll(f.store, QUOTA_TABLES.history)).toHaveLength(2);
    f.clock.set('2026-03-26T00:00:00.000Z');
    const r1 = await runQuotaReset({ store: f.store, clock: f.clock });
    expect(r1.historyPruned).toBe(1);
    expect(r1.alertsPruned).toBe(0);
    f.clock.set('2026-04-20T00:00:00.000Z');
    const r2 = await runQuotaReset({ store: f.store, clock: f.clock, historyRetentionDays: 30 });
    expect(r2.historyPruned).toBe(1);
    expect(r2.alertsPruned).toBe(3); // 80 %, 100 %, and the summary
  });
});

describe('quota-reset deadline', () => {
  it('stops starting work at the deadline and the next run finishes it', async () => {
    const f = quotaFixture();
    await traffic(f);
    f.clock.set('2026-03-12T00:00:00.000Z');
    const cut = await runQuotaReset({ store: f.store, clock: f.clock, deadline: f.clock.now() });
    expect(cut).toMatchObject({ incomplete: true, windowsClosed: 0 });
    const rest = await runQuotaReset({ store: f.store, clock: f.clock, deadline: f.clock.now() + 60_000 });
    expect(rest).toMatchObject({ incomplete: false, windowsClosed: 9, summariesSent: 2 });
  });
});

describe('quota-reset function', () => {
  it('runs on its cron trigger and by hand with an API key; a user cannot run it', async () => {
    const { default: quotaReset } = await import('fn-quota-reset/src/main.ts');
    const { invoke } = await import('resilience-core/testing');
    const f = quotaFixture();
    await f.service().consume(ORG, 'exports_per_day', 2);
    f.clock.set('2026-03-11T00:00:00.000Z');
    const fn = quotaReset.with({ store: f.store, clock: f.clock, env: {} });
    const cron = await invoke(fn, {
      method: 'POST',
      path: '/',
      headers: { 'x-appwrite-trigger': 'schedule' },
    });
    expect(cron.status).toBe(200);
    expect(cron.body).toMatchObject({ ok: true, report: { windowsClosed: 1 } });
    const manual = await invoke(fn, { method: 'POST', path: '/', body: {} });
    expect(manual.body).toMatchObject({ ok: true, report: { windowsClosed: 0, summariesSent: 0 } });
    const user = await invoke(fn, {
      method: 'POST',
      path: '/',
      body: {},
      headers: { 'x-appwrite-user-id': 'bob' },
    });
    expect(user.status).toBe(403);
  });
});
