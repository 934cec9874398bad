/**
 * The memory adapter copies rows in and out: nested values are never shared, and `__proto__` keys stay data.
 * `increment` answers with the stored row itself, frozen: it must never change later (each increment stores a new
 * row, built by a copier generated per row shape), and every shape — a new column, an own `__proto__` key, rows
 * of different shapes in one table, a transaction's staged copy — must copy exactly.
 */
import { MemoryTableStore } from 'resilience-core/adapters/memory';
import { describe, expect, it } from 'vitest';

describe('MemoryTableStore row copies', () => {
  it('never shares nested objects or arrays with callers, on the way in or out', async () => {
    const store = new MemoryTableStore();
    const data = { n: 1, nested: { list: [1, { deep: 'x' }] } };
    await store.create('t', 'a', data);
    data.nested.list.push(2);
    const got = (await store.get<typeof data>('t', 'a'))!;
    expect(got.nested.list).toEqual([1, { deep: 'x' }]);
    (got.nested.list[1] as { deep: string }).deep = 'changed';
    got.$permissions.push('read("any")');
    const incremented = await store.increment<typeof data>('t', 'a', 'n', 1);
    expect(incremented.nested.list).toEqual([1, { deep: 'x' }]);
    expect(incremented.$permissions).toEqual([]);
    expect(incremented.n).toBe(2);
  });

  it('keeps an own __proto__ key as data (from JSON.parse) and never changes a copy prototype', async () => {
    const store = new MemoryTableStore();
    const data = JSON.parse('{"__proto__": {"polluted": true}, "plain": {"__proto__": {"x": 1}}}');
    await store.create('t', 'p', data);
    const got = (await store.get('t', 'p'))! as Record<string, unknown>;
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.hasOwn(got, '__proto__')).toBe(true);
    expect((got as { polluted?: unknown }).polluted).toBeUndefined();
    const plain = got.plain as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.hasOwn(plain, '__proto__')).toBe(true);
    expect(({} as { polluted?: unknown; x?: unknown }).polluted).toBeUndefined();
  });

  it('answers increments with frozen rows that later writes never change', async () => {
    const store = new MemoryTableStore();
    await store.create('t', 'a', { n: 0, label: 'x', nested: { list: [1] } });
    const first = await store.increment<{ n: number; label: string }>('t', 'a', 'n', 1);
    const second = await store.increment<{ n: number; label: string }>('t', 'a', 'n', 1);
    expect(first.n).toBe(1);
    expect(second.n).toBe(2);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => {
      (first as { n: number }).n = 99;
    }).toThrow(TypeError);
    await store.update('t', 'a', { label: 'y' });
    expect(first.label).toBe('x');
    expect(second.label).toBe('x');
    expect((await store.get<{ n: number; label: string }>('t', 'a'))!).toMatchObject({ n: 2, label: 'y' });
    expect(Object.getPrototypeOf(second)).toBe(Object.prototype);
    expect(Object.keys(second)).toEqual(Object.keys((await store.get('t', 'a'))!));
  });

  it('copies every shape exactly: a new column, mixed shapes in one table, an own __proto__ key', async () => {
    const store = new MemoryTableStore();
    await store.create('t', 'a', { n: 1 });
    await store.create('t', 'b', { m: 5, s: 'keep' });
    // A column the row lacks counts from 0 and becomes part of the row; the next increments keep it.
    expect((await store.increment<{ n: number; fresh: number }>('t', 'a', 'fresh', 2)).fresh).toBe(2);
    const a = await store.increment<{ n: number; fresh: number }>('t', 'a', 'fresh', 3);
    expect(a).toMatchObject({ n: 1, fresh: 5 });
    expect((await store.increment<{ n: number; fresh: number }>('t', 'a', 'n', 1)).fresh).toBe(5);
    const b = await store.increment<{ m: number; s: string }>('t', 'b', 'm', -1);
    expect(b).toMatchObject({ m: 4, s: 'keep' });
    expect(b).not.toHaveProperty('n');
    const data = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}');
    await store.create('t', 'p', data);
    const p = (await store.increment('t', 'p', 'n', 1)) as Record<string, unknown>;
    expect(p.n).toBe(2);
    expect(Object.hasOwn(p, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect((p as { polluted?: unknown }).polluted).toBeUndefined();
    // Odd column names are data, never code.
    const odd = { 'a"b': 1, "c'}); throw 1; ({": 2, '\u2028': 3, '0': 4 };
    await store.create('t', 'odd', odd);
    const o = await store.increment('t', 'odd', 'a"b', 1);
    expect(o).toMatchObject({ 'a"b': 2, "c'}); throw 1; ({": 2, '\u2028': 3, '0': 4 });
  });

  it('copies rows wider than the generated copiers take (the spread path) exactly', async () => {
    const store = new MemoryTableStore();
    const wide: Record<string, number> = {};
    for (let i = 0; i < 80; i++) wide[`c${i}`] = i;
    await store.create('t', 'w', wide);
    const first = (await store.increment('t', 'w', 'c0', 1)) as Record<string, unknown>;
    const second = (await store.increment('t', 'w', 'c79', 1)) as Record<string, unknown>;
    expect(Object.isFrozen(second)).toBe(true);
    expect(first).toMatchObject({ ...wide, c0: 1 });
    expect(second).toMatchObject({ ...wide, c0: 1, c79: 80 });
    expect(Object.keys(second)).toEqual(Object.keys((await store.get('t', 'w'))!));
  });

  it('keeps the live row untouched when a transaction increments it and then fails', async () => {
    const store = new MemoryTableStore();
    await store.create('t', 'a', { n: 1 });
    const before = await store.increment<{ n: number }>('t', 'a', 'n', 1);
    await expect(
      store.transaction([
        { action: 'increment', table: 't', id: 'a', column: 'n', by: 5 },
        { action: 'create', table: 't', id: 'a', data: { n: 0 } },
      ]),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(before.n).toBe(2);
    expect((await store.get<{ n: number }>('t', 'a'))!.n).toBe(2);
    expect((await store.increment<{ n: number }>('t', 'a', 'n', 1)).n).toBe(3);
    await store.transaction([{ action: 'increment', table: 't', id: 'a', column: 'n', by: 5 }]);
    expect(before.n).toBe(2);
    expect((await store.increment<{ n: number }>('t', 'a', 'n', 1)).n).toBe(9);
  });
});
