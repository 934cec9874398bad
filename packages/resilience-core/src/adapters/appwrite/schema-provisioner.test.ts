import { describe, expect, it } from 'vitest';
import type { TableSpec } from '../../schema/table-spec.ts';
import { planTable, type RemoteColumn, type RemoteIndex, type RemoteTable } from './schema-provisioner.ts';

const spec: TableSpec = {
  $id: 't',
  name: 'T',
  columns: [
    { key: 's', type: 'string', size: 10, required: true },
    { key: 'n', type: 'integer', required: false, min: 0, max: 5, default: 0 },
    { key: 'e', type: 'string', format: 'enum', elements: ['a', 'b'], required: true },
  ],
  indexes: [{ key: 'by_s', type: 'unique', columns: ['s'] }],
};
const remote = (
  changes: { columns?: RemoteColumn[]; indexes?: RemoteIndex[]; name?: string } = {},
): RemoteTable & { columns: RemoteColumn[]; indexes: RemoteIndex[] } => ({
  $id: 't',
  name: changes.name ?? 'T',
  rowSecurity: false,
  $permissions: [],
  columns: changes.columns ?? [
    { key: 's', type: 'string', size: 10, required: true, array: false, status: 'available' },
    { key: 'n', type: 'integer', required: false, array: false, min: 0, max: 5, default: 0 },
    { key: 'e', type: 'string', format: 'enum', elements: ['a', 'b'], required: true, array: false },
  ],
  indexes: changes.indexes ?? [{ key: 'by_s', type: 'unique', columns: ['s'] }],
});

describe('planTable', () => {
  it('creates every column and index of a missing table', () => {
    const plan = planTable(spec, null);
    expect(plan.exists).toBe(false);
    expect(plan.createColumns.map((c) => c.key)).toEqual(['s', 'n', 'e']);
    expect(plan.createIndexes.map((i) => i.key)).toEqual(['by_s']);
  });

  it('plans nothing for an identical table', () => {
    const plan = planTable(spec, remote());
    expect(plan).toMatchObject({
      updateTable: false,
      createColumns: [],
      updateColumns: [],
      createIndexes: [],
      problems: [],
    });
  });

  it('updates in place what can change without data loss', () => {
    const plan = planTable(
      {
        ...spec,
        name: 'T2',
        columns: spec.columns.map((c) =>
          c.key === 's'
            ? { ...c, size: 20 }
            : c.key === 'n'
              ? { ...c, max: 9 }
              : c.key === 'e'
                ? { ...c, elements: ['a', 'b', 'c'] }
                : c,
        ),
      },
      remote(),
    );
    expect(plan.updateTable).toBe(true);
    expect(plan.updateColumns.map((u) => [u.spec.key, u.why])).toEqual([
      ['s', 'size 10 → 20'],
      ['n', 'max 5 → 9'],
      ['e', 'enum elements added'],
    ]);
    expect(plan.problems).toEqual([]);
  });

  it('refuses type, array, shrink, enum removal and index changes', () => {
    const plan = planTable(
      {
        ...spec,
        columns: [
          { key: 's', type: 'string', size: 5, required: true },
          { key: 'n', type: 'double', required: false },
          { key: 'e', type: 'string', format: 'enum', elements: ['a'], required: true },
        ],
        indexes: [{ key: 'by_s', type: 'key', columns: ['s'] }],
      },
      remote(),
    );
    expect(plan.problems.map((p) => p.key)).toEqual(['s', 'n', 'e', 'by_s']);
    expect(plan.updateColumns).toEqual([]);
  });

  it('reports undeclared remote columns and indexes as extra, never removes them', () => {
    const r = remote();
    const plan = planTable(spec, {
      ...r,
      columns: [...r.columns, { key: 'old', type: 'string', size: 3 }],
      indexes: [...r.indexes, { key: 'old_i', type: 'key', columns: ['old'] }],
    });
    expect(plan.extra).toEqual(['t.old', 't.old_i']);
  });
});
