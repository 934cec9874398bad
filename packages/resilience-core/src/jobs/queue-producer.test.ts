import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryTableStore } from '../adapters/memory/memory-table-store.ts';
import { ResilienceError } from '../errors.ts';
import { ManualClock } from '../testing/index.ts';
import { defineJobType } from './job-types.ts';
import { createJobQueue, type EnqueueInput } from './queue.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function queueWith(defaults = {}) {
  const store = new MemoryTableStore();
  const types = [
    defineJobType({ type: 'send', payload: z.object({ to: z.string().min(1) }).strict(), defaults }),
    defineJobType({ type: 'big', payload: z.string() }),
  ];
  return { store, queue: createJobQueue({ store, clock: new ManualClock(T0), types, random: () => 0.25 }) };
}

async function issuesOf(input: Partial<EnqueueInput> & Record<string, unknown>, defaults = {}) {
  const { store, queue } = queueWith(defaults);
  const error = await queue.enqueue({ orgId: 'org-a', type: 'send', payload: { to: 'x' }, ...input }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ResilienceError);
  const e = error as ResilienceError;
  expect(e.code).toBe('INVALID_INPUT');
  expect(e.status).toBe(400);
  // Invalid input writes nothing.
  expect(await store.list('job-queue')).toMatchObject({ rows: [] });
  return { message: e.message, issues: e.issues ?? [] };
}

describe('enqueue validation', () => {
  it('names an unknown type with the types it accepts', async () => {
    expect(await issuesOf({ type: 'nope', orgId: '' })).toEqual({
      message: 'Unknown job type "nope"',
      issues: [{ path: 'type', message: 'must be one of: send, big' }],
    });
  });

  it('reports every bad field at once, in a fixed order, with the same messages', async () => {
    const result = await issuesOf({
      orgId: '-bad',
      payload: { to: '', extra: 1 },
      priority: 1001,
      maxRetries: 1.5,
      leaseMs: 999,
      backoff: { baseMs: -1, maxMs: 86_400_000 * 7 + 1 },
      delayMs: Number.NaN,
      runAt: 1.5,
      idempotencyKey: '',
    });
    expect(result.message).toBe('Invalid send job');
    expect(result.issues).toEqual([
      { path: 'orgId', message: 'must be an Appwrite id (1-36 chars [a-zA-Z0-9._-])' },
      ...result.issues.filter((i) => i.path.startsWith('payload')),
      { path: 'priority', message: 'must be an integer in -1000..1000' },
      { path: 'maxRetries', message: 'must be an integer in 0..25' },
      { path: 'leaseMs', message: 'must be an integer in 1000..900000' },
      { path: 'backoff.baseMs', message: 'must be an integer in 0..86400000' },
      { path: 'backoff.maxMs', message: 'must be an integer in 0..604800000' },
      { path: 'delayMs', message: 'must be an integer in 0..31622400000' },
      { path: 'runAt', message: 'must be epoch milliseconds' },
      { path: 'idempotencyKey', message: 'must be a non-empty string' },
    ]);
    expect(result.issues.filter((i) => i.path.startsWith('payload')).map((i) => i.path)).toEqual([
      'payload.to',
      'payload',
    ]);
  });

  it('refuses values of the wrong type with the field message', async () => {
    const result = await issuesOf({
      orgId: 7 as unknown as string,
      priority: '1' as unknown as number,
      runAt: null as unknown as number,
      delayMs: Number.POSITIVE_INFINITY,
      idempotencyKey: 5 as unknown as string,
    });
    expect(result.issues).toEqual([
      { path: 'orgId', message: 'must be an Appwrite id (1-36 chars [a-zA-Z0-9._-])' },
      { path: 'priority', message: 'must be an integer in -1000..1000' },
      { path: 'delayMs', message: 'must be an integer in 0..31622400000' },
      { path: 'runAt', message: 'must be epoch milliseconds' },
      { path: 'idempotencyKey', message: 'must be a non-empty string' },
    ]);
  });

  it('checks the type defaults as resolved, and long keys and payloads', async () => {
    const fromDefaults = await issuesOf(
      { idempotencyKey: 'k'.repeat(201) },
      { leaseMs: 5, backoff: { maxMs: 0.5 } },
    );
    expect(fromDefaults.issues).toEqual([
      { path: 'leaseMs', message: 'must be an integer in 1000..900000' },
      { path: 'backoff.maxMs', message: 'must be an integer in 0..604800000' },
      { path: 'idempotencyKey', message: 'must be at most 200 characters' },
    ]);
    const big = await issuesOf({ type: 'big', payload: 'x'.repeat(70_000), orgId: '' });
    expect(big.issues).toEqual([
      { path: 'orgId', message: 'must be an Appwrite id (1-36 chars [a-zA-Z0-9._-])' },
      { path: 'payload', message: expect.stringMatching(/^must serialise to at most \d+ characters$/) },
    ]);
  });

  it('stores a valid enqueue with the resolved settings', async () => {
    const { queue } = queueWith({ priority: 4, backoff: { baseMs: 10 } });
    const { job } = await queue.enqueue({
      orgId: 'org-a',
      type: 'send',
      payload: { to: 'x' },
      delayMs: 500,
      maxRetries: 0,
      idempotencyKey: 'k'.repeat(200),
    });
    expect(job).toMatchObject({
      orgId: 'org-a',
      payload: '{"to":"x"}',
      status: 'PENDING',
      priority: 4,
      maxRetries: 0,
      leaseMs: 30_000,
      backoffBaseMs: 10,
      backoffMaxMs: 3_600_000,
      runAt: T0 + 500,
      version: 0,
      idempotencyKey: 'k'.repeat(200),
    });
  });
});
