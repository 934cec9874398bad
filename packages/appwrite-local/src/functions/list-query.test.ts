import { Query } from 'node-appwrite';
import { describe, expect, it } from 'vitest';
import { AppwriteError } from '../errors.ts';
import { applyQueries, parseQueries } from './list-query.ts';

const items = [
  { $id: 'a', $createdAt: '2026-01-01T00:00:01.000+00:00', status: 'completed', code: 200, path: '/x' },
  { $id: 'b', $createdAt: '2026-01-01T00:00:02.000+00:00', status: 'failed', code: 500, path: '/y' },
  { $id: 'c', $createdAt: '2026-01-01T00:00:03.000+00:00', status: 'completed', code: 404, path: '/xy' },
  { $id: 'd', $createdAt: '2026-01-01T00:00:04.000+00:00', status: 'waiting', code: 0, path: '' },
];
const attrs = ['status', 'code', 'path'];
const ids = (queries: string[]) => applyQueries(items, parseQueries(queries), attrs).page.map((i) => i.$id);

describe('applyQueries', () => {
  it.each([
    [[Query.equal('status', ['completed'])], ['a', 'c']],
    [[Query.notEqual('status', ['completed'])], ['b', 'd']],
    [[Query.greaterThanEqual('code', 404)], ['b', 'c']],
    [[Query.between('code', 100, 450)], ['a', 'c']],
    [[Query.startsWith('path', '/x')], ['a', 'c']],
    [[Query.isNull('path')], ['d']],
    [[Query.createdAfter('2026-01-01T00:00:02.000+00:00')], ['c', 'd']],
    [[Query.or([Query.equal('code', [500]), Query.equal('code', [0])])], ['b', 'd']],
    [
      [Query.orderDesc('$createdAt'), Query.limit(2)],
      ['d', 'c'],
    ],
    [
      [Query.orderAsc('code'), Query.offset(1), Query.limit(2)],
      ['a', 'c'],
    ],
    [[Query.cursorAfter('b')], ['c', 'd']],
    [[Query.cursorBefore('c'), Query.limit(1)], ['b']],
  ])('%j → %j', (queries, expected) => {
    expect(ids(queries)).toEqual(expected);
  });

  it('counts matches before paging', () => {
    expect(applyQueries(items, parseQueries([Query.limit(1)]), attrs).total).toBe(4);
  });

  it.each([
    [['not json'], 'general_query_invalid'],
    [[Query.equal('unknown', ['x'])], 'general_query_invalid'],
    [[JSON.stringify({ method: 'explode', attribute: 'code', values: [] })], 'general_query_invalid'],
    [[Query.limit(-1)], 'general_query_invalid'],
    [[Query.cursorAfter('zzz')], 'general_cursor_not_found'],
  ])('rejects %j with %s', (queries, type) => {
    let error: unknown;
    try {
      ids(queries);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppwriteError);
    expect((error as AppwriteError).type).toBe(type);
    expect((error as AppwriteError).code).toBe(400);
  });
});
