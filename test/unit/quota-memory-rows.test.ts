/**
 * The memory adapter answers an increment (the quota hot path) with the stored row itself, frozen, instead of a
 * copy: a caller can read it but never change the stored state through it. Other reads still return copies.
 */
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { describe, expect, it } from 'vitest';

describe('MemoryTableStore.increment answers with a frozen row', () => {
  it('changing the answer throws and leaves the stored row as it was', async () => {
    const store = new MemoryTableStore();
    await store.create('t', 'a', { n: 1, nested: { list: [1] } }, { permissions: ['read("any")'] });
    const row = await store.increment<{ n: number; nested: { list: number[] } }>('t', 'a', 'n', 2);
    expect(row.n).toBe(3);
    expect(() => {
      row.n = 99;
    }).toThrow(TypeError);
    expect(() => row.nested.list.push(2)).toThrow(TypeError);
    expect(() => row.$permissions.push('write("any")')).toThrow(TypeError);
    const stored = (await store.get<{ n: number; nested: { list: number[] } }>('t', 'a'))!;
    expect(stored).toMatchObject({ n: 3, nested: { list: [1] }, $permissions: ['read("any")'] });
    // A get is a copy the caller may change freely.
    stored.nested.list.push(5);
    expect((await store.get<{ nested: { list: number[] } }>('t', 'a'))!.nested.list).toEqual([1]);
  });
});
