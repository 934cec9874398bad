import { describe, expect, it } from 'vitest';
import { hasCode } from '../errors.ts';
import { listAll, type TableStore } from '../ports/table-store.ts';

/** The table the contract suite uses, in appwrite.json's `tables[]` column format, for adapters that need a schema. */
export const contractTable = {
  $id: 'contract-items',
  name: 'Contract items',
  columns: [
    { key: 'name', type: 'string', size: 64, required: false },
    { key: 'n', type: 'integer', required: false },
    { key: 'score', type: 'double', required: false },
    { key: 'group', type: 'string', size: 32, required: false },
    { key: 'tags', type: 'string', size: 32, array: true, required: false },
    { key: 'flag', type: 'boolean', required: false },
    { key: 'slug', type: 'string', size: 64, required: false },
  ],
  indexes: [{ key: 'slug_unique', type: 'unique', columns: ['slug'] }],
} as const;

export interface ContractFixture {
  store: TableStore;
  /** Removes the rows the test wrote (the suite uses fresh ids, so this may be a no-op). */
  cleanup?: () => Promise<void>;
}

const T = contractTable.$id;

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeDefined();
  expect(hasCode(error, code as never), `expected ${code}, got ${String(error)}`).toBe(true);
}

/**
 * The storage contract: every TableStore adapter must pass it. One factory line per adapter
 * (`describeTableStoreContract('memory', async () => ({ store: new MemoryTableStore() }))`).
 */
export function describeTableStoreContract(name: string, factory: () => Promise<ContractFixture>): void {
  let counter = 0;
  const id = (tag: string) => `${tag}-${Date.now().toString(36)}-${(counter++).toString(36)}`.slice(0, 36);

  describe(`TableStore contract: ${name}`, () => {
    const withStore = (fn: (store: TableStore) => Promise<void>) => async () => {
      const fixture = await factory();
      try {
        await fn(fixture.store);
      } finally {
        await fixture.cleanup?.();
      }
    };

    it(
      'creates with a caller-chosen id and reads it back with metadata',
      withStore(async (store) => {
        const rowId = id('c');
        const row = await store.create(T, rowId, { name: 'a', n: 1, tags: ['x'] });
        expect(row.$id).toBe(rowId);
        expect(row.name).toBe('a');
        expect(row.$createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
        expect(typeof row.$sequence).toBe('number');
        const got = await store.get(T, rowId);
        expect(got?.name).toBe('a');
        expect(got?.n).toBe(1);
        expect(got?.tags).toEqual(['x']);
        expect(got?.score ?? null).toBeNull();
      }),
    );

    it(
      'refuses a second create with the same id as CONFLICT and keeps the first',
      withStore(async (store) => {
        const rowId = id('dup');
        await store.create(T, rowId, { name: 'first' });
        await expectCode(store.create(T, rowId, { name: 'second' }), 'CONFLICT');
        expect((await store.get(T, rowId))?.name).toBe('first');
      }),
    );

    it(
      'gives exactly one success among concurrent creates with one id',
      withStore(async (store) => {
        const rowId = id('race');
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.create(T, rowId, { name: `w${i}` })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(hasCode(r.reason, 'CONFLICT')).toBe(true);
      }),
    );

    it(
      'enforces unique indexes as CONFLICT',
      withStore(async (store) => {
        const slug = id('slug');
        await store.create(T, id('u1'), { slug });
        await expectCode(store.create(T, id('u2'), { slug }), 'CONFLICT');
      }),
    );

    it(
      'returns null for a missing row and NOT_FOUND when updating or incrementing one',
      withStore(async (store) => {
        expect(await store.get(T, id('missing'))).toBeNull();
        await expectCode(store.update(T, id('missing'), { name: 'x' }), 'NOT_FOUND');
        await expectCode(store.increment(T, id('missing'), 'n', 1), 'NOT_FOUND');
        expect(await store.delete(T, id('missing'))).toBe(false);
      }),
    );

    it(
      'updates partially, upserts, and deletes',
      withStore(async (store) => {
        const rowId = id('upd');
        await store.create(T, rowId, { name: 'a', n: 1 });
        const updated = await store.update<Record<string, unknown>>(T, rowId, { n: 2 });
        expect(updated.name).toBe('a');
        expect(updated.n).toBe(2);
        const upserted = await store.upsert(T, id('ups'), { name: 'u', n: 5 });
        expect(upserted.n).toBe(5);
        const again = await store.upsert(T, upserted.$id, { name: 'u', n: 6 });
        expect(again.n).toBe(6);
        expect(await store.delete(T, rowId)).toBe(true);
        expect(await store.get(T, rowId)).toBeNull();
      }),
    );

    it(
      'increments within the bound, allows reaching it, and refuses crossing it without writing',
      withStore(async (store) => {
        const rowId = id('inc');
        await store.create(T, rowId, { n: 0 });
        expect((await store.increment(T, rowId, 'n', 3, { max: 5 })).n).toBe(3);
        expect((await store.increment(T, rowId, 'n', 2, { max: 5 })).n).toBe(5);
        await expectCode(store.increment(T, rowId, 'n', 1, { max: 5 }), 'BOUND_EXCEEDED');
        expect((await store.get(T, rowId))?.n).toBe(5);
        expect((await store.increment(T, rowId, 'n', -5, { min: 0 })).n).toBe(0);
        await expectCode(store.increment(T, rowId, 'n', -1, { min: 0 }), 'BOUND_EXCEEDED');
        expect((await store.get(T, rowId))?.n).toBe(0);
      }),
    );

    it(
      'admits exactly the bound among concurrent bounded increments',
      withStore(async (store) => {
        const rowId = id('cinc');
        await store.create(T, rowId, { n: 0 });
        const results = await Promise.allSettled(
          Array.from({ length: 40 }, () => store.increment(T, rowId, 'n', 1, { max: 13 })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(13);
        expect((await store.get(T, rowId))?.n).toBe(13);
      }),
    );

    it(
      'lists with filters, ordering and cursor pagination',
      withStore(async (store) => {
        const group = id('g');
        for (let i = 0; i < 7; i++) {
          await store.create(T, id(`l${i}`), {
            group,
            n: i % 3,
            name: `item-${i}`,
            tags: i % 2 ? ['odd'] : ['even'],
          });
        }
        const all = await listAll(store, T, {
          where: [{ field: 'group', op: 'eq', value: group }],
          limit: 3,
        });
        expect(all.map((r) => r.name)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `item-${i}`));

        const ordered = await store.list(T, {
          where: [{ field: 'group', op: 'eq', value: group }],
          orderBy: [{ field: 'n', direction: 'desc' }],
          limit: 3,
        });
        expect(ordered.rows.map((r) => r.n)).toEqual([2, 2, 1]);
        expect(ordered.nextCursor).not.toBeNull();
        const next = await store.list(T, {
          where: [{ field: 'group', op: 'eq', value: group }],
          orderBy: [{ field: 'n', direction: 'desc' }],
          limit: 10,
          cursor: ordered.nextCursor!,
        });
        expect(next.rows.map((r) => r.n)).toEqual([1, 0, 0, 0]);
        expect(next.nextCursor).toBeNull();

        const where = (extra: object) =>
          store.list(T, { where: [{ field: 'group', op: 'eq', value: group }, extra as never] });
        expect((await where({ field: 'n', op: 'gte', value: 2 })).rows).toHaveLength(2);
        expect((await where({ field: 'n', op: 'lt', value: 1 })).rows).toHaveLength(3);
        expect((await where({ field: 'n', op: 'eq', value: [0, 2] })).rows).toHaveLength(5);
        expect((await where({ field: 'n', op: 'ne', value: 0 })).rows).toHaveLength(4);
        expect((await where({ field: 'n', op: 'between', value: [1, 2] })).rows).toHaveLength(4);
        expect((await where({ field: 'name', op: 'startsWith', value: 'item-1' })).rows).toHaveLength(1);
        expect((await where({ field: 'tags', op: 'contains', value: 'odd' })).rows).toHaveLength(3);
        expect((await where({ field: 'score', op: 'isNull' })).rows).toHaveLength(7);
        expect((await where({ field: 'name', op: 'isNotNull' })).rows).toHaveLength(7);
      }),
    );

    it(
      'commits a transaction whole',
      withStore(async (store) => {
        const a = id('ta');
        const b = id('tb');
        await store.create(T, a, { n: 1 });
        await store.transaction([
          { action: 'create', table: T, id: b, data: { name: 'b' } },
          { action: 'update', table: T, id: a, data: { name: 'a2' } },
          { action: 'increment', table: T, id: a, column: 'n', by: 2, bound: { max: 10 } },
        ]);
        expect((await store.get(T, b))?.name).toBe('b');
        const rowA = await store.get(T, a);
        expect(rowA?.name).toBe('a2');
        expect(rowA?.n).toBe(3);
      }),
    );

    it(
      'applies nothing of a transaction whose increment crosses its bound',
      withStore(async (store) => {
        const a = id('tx');
        const created = id('tc');
        await store.create(T, a, { n: 4, name: 'before' });
        const failure = store.transaction([
          { action: 'create', table: T, id: created, data: { name: 'new' } },
          { action: 'update', table: T, id: a, data: { name: 'after' } },
          { action: 'increment', table: T, id: a, column: 'n', by: 2, bound: { max: 5 } },
        ]);
        await expectCode(failure, 'BOUND_EXCEEDED');
        expect(await store.get(T, created)).toBeNull();
        const row = await store.get(T, a);
        expect(row?.name).toBe('before');
        expect(row?.n).toBe(4);
      }),
    );

    it(
      'applies nothing of a transaction that creates an existing id',
      withStore(async (store) => {
        const a = id('te');
        const b = id('tf');
        await store.create(T, a, { name: 'keep' });
        await expectCode(
          store.transaction([
            { action: 'create', table: T, id: b, data: { name: 'b' } },
            { action: 'create', table: T, id: a, data: { name: 'dup' } },
          ]),
          'CONFLICT',
        );
        expect(await store.get(T, b)).toBeNull();
        expect((await store.get(T, a))?.name).toBe('keep');
      }),
    );

    it(
      'makes a version compare-and-set: of two writers expecting one version, one wins',
      withStore(async (store) => {
        const a = id('cas');
        await store.create(T, a, { n: 0, name: 'v0' });
        const write = (name: string) =>
          store.transaction([
            { action: 'increment', table: T, id: a, column: 'n', by: 1, bound: { max: 1 } },
            { action: 'update', table: T, id: a, data: { name } },
          ]);
        const results = await Promise.allSettled([write('x'), write('y')]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const row = await store.get(T, a);
        expect(row?.n).toBe(1);
        expect(['x', 'y']).toContain(row?.name);
      }),
    );
  });
}
