import { describe, expect, it } from 'vitest';
import { invoke } from '../testing/fake-context.ts';
import { defineFunction, routesFor } from './define-function.ts';

const route = routesFor<null>();
const fn = defineFunction({
  name: 'text-fn',
  version: '1',
  setup: () => null,
  routes: [
    route({ method: 'GET', path: '/plain', auth: 'key', handler: () => ({ text: 'a 1\n' }) }),
    route({
      method: 'GET',
      path: '/typed',
      auth: 'key',
      handler: () => ({
        status: 202,
        text: '# TYPE x gauge\nx 1\n',
        headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' },
      }),
    }),
  ],
});

describe('text responses (RouteResult.text)', () => {
  it('sends the text as is, as text/plain; charset=utf-8 by default, with the trace id header', async () => {
    const out = await invoke(fn, { method: 'GET', path: '/plain' });
    expect(out.status).toBe(200);
    expect(out.body).toBe('a 1\n');
    expect(out.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(out.headers['x-trace-id']).toMatch(/./);
  });

  it('keeps the status and a content-type the handler sets (any letter case), without adding a second one', async () => {
    const out = await invoke(fn, { method: 'GET', path: '/typed' });
    expect(out.status).toBe(202);
    expect(out.body).toBe('# TYPE x gauge\nx 1\n');
    expect(out.headers['Content-Type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(out.headers['content-type']).toBeUndefined();
  });
});
