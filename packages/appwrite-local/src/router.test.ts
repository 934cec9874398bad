import { describe, expect, it } from 'vitest';
import { PathRouter } from './router.ts';
import type { RouteDefinition } from './server-context.ts';

const route = (method: RouteDefinition['method'], path: string): RouteDefinition => ({
  method,
  path,
  scope: null,
  handler: () => ({ status: 200, json: path }),
});

describe('PathRouter', () => {
  it('prefers static segments over parameters regardless of registration order', () => {
    const r = new PathRouter();
    r.add(route('GET', '/tablesdb/:databaseId'));
    r.add(route('GET', '/tablesdb/transactions'));
    const hit = r.match('GET', '/tablesdb/transactions');
    expect(hit.kind === 'found' && hit.route.path).toBe('/tablesdb/transactions');
    const param = r.match('GET', '/tablesdb/main');
    expect(param.kind === 'found' && param.params).toEqual({ databaseId: 'main' });
  });

  it('decodes parameters, matches methods and segment counts exactly', () => {
    const r = new PathRouter();
    r.add(route('PATCH', '/rows/:rowId/:column/increment'));
    const hit = r.match('PATCH', '/rows/a%20b/n/increment');
    expect(hit.kind === 'found' && hit.params).toEqual({ rowId: 'a b', column: 'n' });
    expect(r.match('GET', '/rows/a/n/increment').kind).toBe('not_found');
    expect(r.match('PATCH', '/rows/a/n').kind).toBe('not_found');
    expect(r.match('PATCH', '/rows/%E0%A4%A/n/increment').kind).toBe('not_found');
  });

  it('refuses a duplicate route', () => {
    const r = new PathRouter();
    r.add(route('GET', '/x'));
    expect(() => r.add(route('GET', '/x'))).toThrow(/duplicate route/);
  });
});
