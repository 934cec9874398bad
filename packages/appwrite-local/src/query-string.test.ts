import { describe, expect, it } from 'vitest';
import { parseQueryString } from './query-string.ts';

describe('parseQueryString', () => {
  it('decodes indexed arrays in index order, as the SDKs send queries', () => {
    expect(parseQueryString('queries[1]=b&queries[0]=a&total=false')).toEqual({
      queries: ['a', 'b'],
      total: 'false',
    });
  });

  it('decodes nested keys, appends for [] and URL-decodes values', () => {
    expect(parseQueryString('a[b]=1&a[c]=%7B%22x%22%3A1%7D&k[]=x&k[]=y&s=a+b')).toEqual({
      a: { b: '1', c: '{"x":1}' },
      k: ['x', 'y'],
      s: 'a b',
    });
  });

  it('never throws on malformed input and ignores prototype keys', () => {
    expect(parseQueryString('%E0%A4%A=1&=&&x')).toEqual({ '%E0%A4%A': '1', x: '' });
    const parsed = parseQueryString('__proto__[polluted]=1&a[__proto__]=2');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parseQueryString('0=a&1=b')).toEqual({ 0: 'a', 1: 'b' });
  });
});
