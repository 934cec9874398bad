import { describe, expect, it } from 'vitest';
import { ZodObject, ZodType, z } from 'zod';
import { lazySchema } from './lazy-schema.ts';

const build = () =>
  z.object({
    orgId: z.string().min(1).max(36),
    points: z.number().int().min(0).max(1000).default(0),
    tags: z.array(z.string().min(1)).max(3).optional(),
  });

describe('lazySchema', () => {
  it('builds nothing until first use, then builds exactly once', () => {
    let builds = 0;
    const schema = lazySchema(() => {
      builds++;
      return build();
    });
    expect(builds).toBe(0);
    schema.parse({ orgId: 'a' });
    schema.safeParse({ orgId: 'b' });
    void schema.shape;
    expect(builds).toBe(1);
  });

  it('parses, defaults and reports issues exactly like the schema it stands for', () => {
    const real = build();
    const lazy = lazySchema(build);
    const inputs: unknown[] = [
      { orgId: 'acme', points: 3, tags: ['x'] },
      { orgId: 'acme' },
      { orgId: '', points: -1, tags: ['a', 'b', 'c', 'd'] },
      { points: 1.5 },
      'not an object',
      null,
    ];
    for (const input of inputs) {
      expect(lazy.safeParse(input)).toEqual(real.safeParse(input));
    }
    expect(() => lazy.parse({})).toThrow(z.ZodError);
  });

  it('works as a field, in unions, and through derived schemas', () => {
    const id = lazySchema(() => z.string().min(1).max(4));
    const row = lazySchema(() => z.object({ id, kind: z.literal('a') }));
    const other = lazySchema(() => z.object({ id, kind: z.literal('b'), n: z.number() }));
    const either = z.discriminatedUnion('kind', [row, other]);
    expect(either.parse({ id: 'x', kind: 'b', n: 1 })).toEqual({ id: 'x', kind: 'b', n: 1 });
    expect(either.safeParse({ id: 'toolong', kind: 'a' }).success).toBe(false);
    const extended = row.extend({ extra: z.boolean() });
    expect(extended.parse({ id: 'x', kind: 'a', extra: true })).toEqual({ id: 'x', kind: 'a', extra: true });
    expect(row.optional().parse(undefined)).toBeUndefined();
    expect(row.pick({ id: true }).parse({ id: 'y', kind: 'zzz' })).toEqual({ id: 'y' });
    expect(Object.keys(row.shape)).toEqual(['id', 'kind']);
    expect(z.array(id).max(2).safeParse(['a', 'b', 'c']).success).toBe(false);
  });

  it('keeps instanceof, `in`, key listing and getters', () => {
    const lazy = lazySchema(() => z.string().min(2).max(9));
    expect(lazy).toBeInstanceOf(ZodType);
    expect(lazySchema(build)).toBeInstanceOf(ZodObject);
    expect('_zod' in lazy).toBe(true);
    expect(lazy.minLength).toBe(2);
    expect(lazy.maxLength).toBe(9);
    const obj = lazySchema(build);
    expect(Object.keys(obj)).toEqual(Object.keys(build()));
  });

  it('runs methods on the built schema (descriptions and registries see the same object)', () => {
    const lazy = lazySchema(() => z.string().min(1));
    expect(lazy.parse).toBe(lazy.parse);
    expect(lazy.describe('an id').description).toBe('an id');
    lazy.register(z.globalRegistry, { description: 'registered' });
    expect(lazy.description).toBe('registered');
    expect(lazy.meta()).toEqual({ description: 'registered' });
    const error = lazy.safeParse('').error;
    expect(error?.issues[0]?.code).toBe('too_small');
  });

  it('surfaces a failing build on use, not at declaration', () => {
    const broken = lazySchema((): z.ZodString => {
      throw new Error('bad schema');
    });
    expect(() => broken.parse('x')).toThrow('bad schema');
  });

  it('infers the same types', () => {
    const lazy = lazySchema(build);
    const value: z.infer<typeof lazy> = lazy.parse({ orgId: 'a' });
    expect(value).toEqual({ orgId: 'a', points: 0 });
  });
});
