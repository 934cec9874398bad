import createRecognition from 'fn-create-recognition/src/main.ts';
import { listAll } from 'resilience-core';
import { MemoryOrgDirectory } from 'resilience-core/adapters/memory';
import { idempotentJobId, JOB_TABLES } from 'resilience-core/jobs';
import { invoke } from 'resilience-core/testing';
import { describe, expect, it } from 'vitest';
import { caseInsensitive, quotaFixture } from '../quota-helpers.ts';

const ORG = 'acme';

async function setup(exportsPerDay: number, collation: 'binary' | 'utf8mb4_general_ci' = 'binary') {
  const f = quotaFixture();
  await f.configure(ORG, { overrides: { exports_per_day: exportsPerDay } });
  const orgs = new MemoryOrgDirectory({ [ORG]: { alice: ['owner'], bob: [] } });
  const store = collation === 'binary' ? f.store : caseInsensitive(f.store);
  const api = createRecognition.with({ env: {}, store, orgs, clock: f.clock });
  const post = (path: string, body: Record<string, unknown>) =>
    invoke(api, { method: 'POST', path, body, headers: { 'x-appwrite-user-id': 'alice' } });
  const used = async () =>
    (await listAll(f.store, 'quota-usage'))
      .filter((r) => r.quotaType === 'exports_per_day')
      .reduce((n, r) => n + Number(r.used), 0);
  return { f, post, used };
}

describe('POST /exports idempotency', () => {
  it('a retry with the same key returns the same 202 even when the quota is spent since, and is not charged', async () => {
    const { f, post, used } = await setup(1);
    const first = await post('/exports', { orgId: ORG, idempotencyKey: 'q1-report' });
    expect(first.status).toBe(202);
    const jobId = (first.body as { jobId: string }).jobId;
    expect(jobId).toBe(idempotentJobId(ORG, 'q1-report'));
    expect(first.headers).toMatchObject({ 'RateLimit-Limit': '1', 'RateLimit-Remaining': '0' });
    expect(await used()).toBe(1);

    const before = { ...f.memory!.stats.byMethod };
    const retry = await post('/exports', { orgId: ORG, idempotencyKey: 'q1-report' });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ jobId, deduplicated: true, checkStatusAt: `/status/${jobId}` });
    expect(retry.headers.location).toBe(`/status/${jobId}`);
    // One get by the deterministic id; no quota increment, no create.
    const after = f.memory!.stats.byMethod;
    expect((after.get ?? 0) - (before.get ?? 0)).toBe(1);
    expect((after.increment ?? 0) - (before.increment ?? 0)).toBe(0);
    expect((after.create ?? 0) - (before.create ?? 0)).toBe(0);
    expect(await used()).toBe(1);

    // A new key is a new export: the spent quota refuses it.
    const other = await post('/exports', { orgId: ORG, idempotencyKey: 'q2-report' });
    expect(other.status).toBe(429);
    expect(await listAll(f.store, JOB_TABLES.queue)).toHaveLength(1);
  });

  it('concurrent retries of one key queue one job and charge once', async () => {
    const { f, post, used } = await setup(10);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post('/exports', { orgId: ORG, idempotencyKey: 'burst' })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(new Set(answers.map((a) => (a.body as { jobId: string }).jobId)).size).toBe(1);
    expect(await listAll(f.store, JOB_TABLES.queue)).toHaveLength(1);
    expect(await used()).toBe(1);
  });

  it('a key already used for another job type is a 409 and charges nothing', async () => {
    const { f, post, used } = await setup(5);
    expect((await post('/cleanups', { orgId: ORG, daysOld: 30, idempotencyKey: 'k' })).status).toBe(202);
    const clash = await post('/exports', { orgId: ORG, idempotencyKey: 'k' });
    expect(clash.status).toBe(409);
    expect(await used()).toBe(0);
    expect(await listAll(f.store, JOB_TABLES.queue)).toHaveLength(1);
  });

  it('without a key every request is a new export, charged', async () => {
    const { post, used } = await setup(5);
    const a = await post('/exports', { orgId: ORG });
    const b = await post('/exports', { orgId: ORG });
    expect((a.body as { jobId: string }).jobId).not.toBe((b.body as { jobId: string }).jobId);
    expect(b.headers).toMatchObject({ 'RateLimit-Remaining': '3' });
    expect(await used()).toBe(2);
  });

  it.each(['binary', 'utf8mb4_general_ci'] as const)(
    'keys that differ only in case are two exports, never one deduplicated job (%s ids)',
    async (collation) => {
      const { f, post, used } = await setup(10, collation);
      const a = await post('/exports', { orgId: ORG, idempotencyKey: 'Q1-Report' });
      const b = await post('/exports', { orgId: ORG, idempotencyKey: 'q1-report' });
      expect([a.status, b.status]).toEqual([202, 202]);
      expect((b.body as { deduplicated?: boolean }).deduplicated).not.toBe(true);
      const ids = [a, b].map((r) => (r.body as { jobId: string }).jobId);
      expect(ids[0]!.toLowerCase()).not.toBe(ids[1]!.toLowerCase());
      expect(await listAll(f.store, JOB_TABLES.queue)).toHaveLength(2);
      expect(await used()).toBe(2);
    },
  );
});
