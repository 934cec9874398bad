import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonTable } from './json-table.ts';

const schema = z.object({ $id: z.string(), $createdAt: z.number(), status: z.string() });

describe('JsonTable', () => {
  const make = () => new JsonTable(new Database(':memory:'), 't', schema);

  it('inserts once per (scope, id), lists in insertion order, replaces and deletes', () => {
    const t = make();
    expect(t.insert('f', { $id: 'b', $createdAt: 1, status: 'x' })).toBe(true);
    expect(t.insert('f', { $id: 'a', $createdAt: 2, status: 'x' })).toBe(true);
    expect(t.insert('f', { $id: 'a', $createdAt: 3, status: 'y' })).toBe(false);
    expect(t.insert('g', { $id: 'a', $createdAt: 3, status: 'y' })).toBe(true);
    expect(t.list('f').map((r) => r.$id)).toEqual(['b', 'a']);
    expect(t.put('f', { $id: 'a', $createdAt: 2, status: 'z' })).toBe(true);
    expect(t.get('f', 'a')?.status).toBe('z');
    expect(t.put('f', { $id: 'nope', $createdAt: 2, status: 'z' })).toBe(false);
    expect(t.delete('f', 'a')).toBe(true);
    expect(t.get('f', 'a')).toBeNull();
    t.deleteScope('g');
    expect(t.list('g')).toEqual([]);
  });

  it('prunes old records except the statuses it is told to keep', () => {
    const t = make();
    t.insert('f', { $id: 'old-done', $createdAt: 10, status: 'completed' });
    t.insert('f', { $id: 'old-later', $createdAt: 10, status: 'scheduled' });
    t.insert('g', { $id: 'old-failed', $createdAt: 20, status: 'failed' });
    t.insert('f', { $id: 'new', $createdAt: 100, status: 'completed' });
    expect(t.pruneCreatedBefore(50, ['scheduled'])).toBe(2);
    expect(t.list('f').map((r) => r.$id)).toEqual(['old-later', 'new']);
    expect(t.list('g')).toEqual([]);
  });
});
