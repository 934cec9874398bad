import { describe, expect, it } from 'vitest';
import { MemoryTableStore } from '../adapters/memory/memory-table-store.ts';
import { hasCode } from '../errors.ts';
import { versionBump, versionedDelete, versionedUpdate } from './compare-and-set.ts';
import { orderForCommit } from './table-store.ts';

const T = 'cas-rows';

async function seeded() {
  const store = new MemoryTableStore();
  await store.create(T, 'a', { name: 'first', version: 0, generation: 4 });
  return store;
}

function codeOf(result: PromiseSettledResult<unknown>): string | undefined {
  if (result.status === 'fulfilled') return undefined;
  for (const code of ['BOUND_EXCEEDED', 'CONFLICT', 'NOT_FOUND'] as const) {
    if (hasCode(result.reason, code)) return code;
  }
  return 'other';
}

describe('versionedUpdate', () => {
  it('builds the update and the bump bounded at expected + 1', () => {
    expect(versionedUpdate({ table: T, id: 'a', expected: 7 }, { name: 'x' })).toEqual([
      { action: 'update', table: T, id: 'a', data: { name: 'x' } },
      { action: 'increment', table: T, id: 'a', column: 'version', by: 1, bound: { max: 8 } },
    ]);
    expect(versionBump({ table: T, id: 'a', expected: 2, column: 'generation' })).toEqual({
      action: 'increment',
      table: T,
      id: 'a',
      column: 'generation',
      by: 1,
      bound: { max: 3 },
    });
  });

  it('writes the patch and moves the version to expected + 1 when nobody raced', async () => {
    const store = await seeded();
    await store.transaction(versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'second' }));
    expect(await store.get(T, 'a')).toMatchObject({ name: 'second', version: 1 });
  });

  it('lets exactly one of two writers that read the same version win; the loser writes nothing', async () => {
    const store = await seeded();
    const results = await Promise.allSettled([
      store.transaction(versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'left' })),
      store.transaction([
        ...versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'right' }),
        { action: 'create', table: T, id: 'audit-right', data: { name: 'audit', version: 0 } },
      ]),
    ]);
    expect(results.map(codeOf)).toEqual([undefined, 'BOUND_EXCEEDED']);
    expect(await store.get(T, 'a')).toMatchObject({ name: 'left', version: 1 });
    // All or nothing: the loser's other operation is not visible either.
    expect(await store.get(T, 'audit-right')).toBeNull();
  });

  it('refuses a stale expected version and leaves the row as it was', async () => {
    const store = await seeded();
    await store.transaction(versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'second' }));
    const [stale] = await Promise.allSettled([
      store.transaction(versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'stale' })),
    ]);
    expect(codeOf(stale!)).toBe('BOUND_EXCEEDED');
    expect(await store.get(T, 'a')).toMatchObject({ name: 'second', version: 1 });
  });

  it('guards another counter column when named', async () => {
    const store = await seeded();
    const row = { table: T, id: 'a', expected: 4, column: 'generation' };
    await store.transaction(versionedUpdate(row, { name: 'leased' }));
    const [again] = await Promise.allSettled([store.transaction(versionedUpdate(row, { name: 'twice' }))]);
    expect(codeOf(again!)).toBe('BOUND_EXCEEDED');
    expect(await store.get(T, 'a')).toMatchObject({ name: 'leased', generation: 5, version: 0 });
  });

  it('fails NOT_FOUND on a missing row and writes nothing', async () => {
    const store = await seeded();
    const [missing] = await Promise.allSettled([
      store.transaction([
        ...versionedUpdate({ table: T, id: 'gone', expected: 0 }, { name: 'x' }),
        ...versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'x' }),
      ]),
    ]);
    expect(codeOf(missing!)).toBe('NOT_FOUND');
    expect(await store.get(T, 'a')).toMatchObject({ name: 'first', version: 0 });
  });
});

describe('versionedDelete', () => {
  it('deletes only when the version is still the one read', async () => {
    const store = await seeded();
    await store.transaction(versionedUpdate({ table: T, id: 'a', expected: 0 }, { name: 'moved' }));
    const [stale] = await Promise.allSettled([
      store.transaction(versionedDelete({ table: T, id: 'a', expected: 0 })),
    ]);
    expect(codeOf(stale!)).toBe('BOUND_EXCEEDED');
    expect(await store.get(T, 'a')).toMatchObject({ name: 'moved', version: 1 });
    await store.transaction(versionedDelete({ table: T, id: 'a', expected: 1 }));
    expect(await store.get(T, 'a')).toBeNull();
  });

  it('keeps the bump before the delete in commit order', () => {
    const ops = [
      { action: 'create' as const, table: 'z-other', id: '0', data: {} },
      ...versionedDelete({ table: T, id: 'b', expected: 3 }),
      ...versionedDelete({ table: T, id: 'a', expected: 1 }),
    ];
    expect(orderForCommit(ops).map((op) => `${op.id}:${op.action}`)).toEqual([
      'a:increment',
      'a:delete',
      'b:increment',
      'b:delete',
      '0:create',
    ]);
  });
});
