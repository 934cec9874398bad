import { describe, expect, it } from 'vitest';
import { MemoryOrgDirectory } from '../adapters/memory/memory-org-directory.ts';
import { MemoryTableStore } from '../adapters/memory/memory-table-store.ts';
import { hasCode, ResilienceError } from '../errors.ts';
import { createLogger } from '../runtime/logger.ts';
import { composeHooks, type RecognitionHooks } from './hooks.ts';
import { createRecognition, createRecognitionInputSchema } from './recognitions.ts';

const lines: string[] = [];
const log = createLogger({ write: (l) => lines.push(l), writeError: (l) => lines.push(l), base: {} });
const orgs = new MemoryOrgDirectory({ acme: { alice: ['owner'], bob: [] } });
const input = createRecognitionInputSchema.parse({
  orgId: 'acme',
  receiverId: 'bob',
  message: 'thanks',
  points: 3,
});

function deps(hooks: RecognitionHooks, store = new MemoryTableStore()) {
  return { store, orgs, hooks, log, traceId: 't' };
}

describe('recognition hooks', () => {
  it('calls beforeCreate with the draft, then commit and afterCreate with the stored row', async () => {
    const calls: string[] = [];
    const hooks: RecognitionHooks = {
      beforeCreate: (draft) => {
        calls.push(`before ${draft.giverId}->${draft.receiverId} ${draft.points}`);
        return {
          commit: async () => void calls.push('commit'),
          rollback: async () => void calls.push('rollback'),
        };
      },
      afterCreate: (row) => void calls.push(`after ${row.$id === undefined ? '?' : 'row'}`),
    };
    const { created } = await createRecognition(input, { userId: 'alice' }, deps(hooks));
    expect(created).toBe(true);
    expect(calls).toEqual(['before alice->bob 3', 'commit', 'after row']);
  });

  it('writes nothing when beforeCreate refuses (e.g. quota exceeded)', async () => {
    const store = new MemoryTableStore();
    const refuse: RecognitionHooks = {
      beforeCreate: () => {
        throw new ResilienceError('QUOTA_EXCEEDED', 'recognitions_per_day used up', {
          retryAfterSeconds: 60,
        });
      },
    };
    const error = await createRecognition(input, { userId: 'alice' }, deps(refuse, store)).catch(
      (e: unknown) => e,
    );
    expect(hasCode(error, 'QUOTA_EXCEEDED')).toBe(true);
    expect((await store.list('recognitions')).rows).toHaveLength(0);
  });

  it('rolls the admission back when the write fails', async () => {
    const calls: string[] = [];
    const store = new MemoryTableStore();
    store.create = () => Promise.reject(new ResilienceError('RETRYABLE', 'backend down'));
    const hooks: RecognitionHooks = {
      beforeCreate: () => ({ rollback: async () => void calls.push('rollback') }),
      afterCreate: () => void calls.push('after'),
    };
    await expect(createRecognition(input, { userId: 'alice' }, deps(hooks, store))).rejects.toMatchObject({
      code: 'RETRYABLE',
    });
    expect(calls).toEqual(['rollback']);
  });

  it('keeps the recognition when afterCreate fails (logged, not returned)', async () => {
    const store = new MemoryTableStore();
    const hooks = composeHooks({ afterCreate: () => Promise.reject(new Error('notifier down')) });
    const { created } = await createRecognition(input, { userId: 'alice' }, deps(hooks, store));
    expect(created).toBe(true);
    expect((await store.list('recognitions')).rows).toHaveLength(1);
    expect(lines.some((l) => l.includes('notifier down'))).toBe(true);
  });

  it('keeps the recognition when bare hooks (not composed) fail after the row is stored', async () => {
    const store = new MemoryTableStore();
    const hooks: RecognitionHooks = {
      beforeCreate: () => ({ commit: () => Promise.reject(new Error('commit lost')) }),
      afterCreate: () => {
        throw new Error('bare notifier down');
      },
    };
    const { created } = await createRecognition(input, { userId: 'alice' }, deps(hooks, store));
    expect(created).toBe(true);
    expect((await store.list('recognitions')).rows).toHaveLength(1);
    expect(lines.some((l) => l.includes('commit lost'))).toBe(true);
    expect(lines.some((l) => l.includes('bare notifier down'))).toBe(true);
  });

  it('composeHooks rolls back earlier admissions, newest first, when a later beforeCreate refuses', async () => {
    const calls: string[] = [];
    const grant = (name: string): RecognitionHooks => ({
      beforeCreate: () => ({ rollback: async () => void calls.push(`rollback ${name}`) }),
    });
    const hooks = composeHooks(grant('a'), grant('b'), {
      beforeCreate: () => {
        throw new ResilienceError('QUOTA_EXCEEDED', 'no');
      },
    });
    await expect(createRecognition(input, { userId: 'alice' }, deps(hooks))).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(calls).toEqual(['rollback b', 'rollback a']);
  });

  it('answers with the admission headers, read after commit (created) or after rollback (duplicate)', async () => {
    const store = new MemoryTableStore();
    const calls: string[] = [];
    let settled = 'none';
    const hooks = composeHooks(
      {
        beforeCreate: () => ({
          commit: async () => {
            settled = 'committed';
          },
          rollback: async () => {
            settled = 'rolled-back';
          },
          headers: () => ({ 'X-Settled': settled, 'RateLimit-Limit': '10' }),
        }),
      },
      { beforeCreate: () => ({ headers: () => ({ 'RateLimit-Limit': '5' }) }) },
      {
        beforeCreate: () => ({
          headers: () => {
            calls.push('headers');
            throw new Error('broken headers');
          },
        }),
      },
    );
    const withId = { ...input, requestId: 'r-1' };
    const first = await createRecognition(withId, { userId: 'alice' }, deps(hooks, store));
    expect(first).toMatchObject({
      created: true,
      headers: { 'X-Settled': 'committed', 'RateLimit-Limit': '5' },
    });
    const again = await createRecognition(withId, { userId: 'alice' }, deps(hooks, store));
    expect(again).toMatchObject({ created: false, headers: { 'X-Settled': 'rolled-back' } });
    // A failing headers() is logged and skipped: the recognition still succeeds.
    expect(calls).toEqual(['headers', 'headers']);
    expect(lines.some((l) => l.includes('broken headers'))).toBe(true);
  });

  it('runs prepare in parallel with the receiver membership lookup, before beforeCreate', async () => {
    const events: string[] = [];
    let releaseLookup!: () => void;
    const lookupGate = new Promise<void>((r) => {
      releaseLookup = r;
    });
    const slowOrgs = {
      async rolesOf(orgId: string, userId: string) {
        events.push(`lookup ${userId}`);
        await lookupGate;
        return orgs.rolesOf(orgId, userId);
      },
    };
    const hooks = composeHooks({
      prepare: async (orgId) => {
        events.push(`prepare ${orgId}`);
        // Still waiting for the lookup: the two are in flight together.
        releaseLookup();
      },
      beforeCreate: () => void events.push('before'),
    });
    await createRecognition(input, { userId: 'alice' }, { ...deps(hooks), orgs: slowOrgs });
    expect(events).toEqual(['lookup bob', 'prepare acme', 'before']);
  });

  it('a failing prepare does not fail the request; a refused receiver still writes nothing', async () => {
    const store = new MemoryTableStore();
    const hooks = composeHooks({ prepare: () => Promise.reject(new Error('limits unavailable')) });
    const { created } = await createRecognition(input, { userId: 'alice' }, deps(hooks, store));
    expect(created).toBe(true);
    expect(lines.some((l) => l.includes('limits unavailable'))).toBe(true);
    const prepared: string[] = [];
    const refused = await createRecognition(
      { ...input, receiverId: 'mallory' },
      { userId: 'alice' },
      deps(
        { prepare: (o) => void prepared.push(o), beforeCreate: () => void prepared.push('before') },
        store,
      ),
    ).catch((e: unknown) => e);
    expect(hasCode(refused, 'FORBIDDEN')).toBe(true);
    expect(prepared).toEqual(['acme']);
    expect(await store.list('recognitions')).toMatchObject({ rows: [expect.anything()] });
  });

  it('answers with no headers when no hook adds any', async () => {
    const { headers } = await createRecognition(input, { userId: 'alice' }, deps({}));
    expect(headers).toEqual({});
  });
});
