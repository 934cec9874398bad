/** The memory adapter copies rows in and out: nested values are never shared, and `__proto__` keys stay data. */
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
});
