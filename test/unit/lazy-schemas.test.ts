/**
 * Cold start guard: loading resilience-core or a function builds no zod schema. Every module-level schema is
 * declared through `lazySchema(() => …)` (packages/resilience-core/src/schema/lazy-schema.ts) and built on
 * first use; a schema built while modules load costs every cold start (see bench/bundles.bench.ts). This test
 * counts every use of zod's `z` while the modules are imported: it must be zero.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const used: string[] = [];
let watching = false;

vi.mock('zod', async (importOriginal) => {
  const real = await importOriginal<typeof import('zod')>();
  const z = new Proxy(real.z, {
    get(target, key, receiver) {
      if (watching) used.push(String(key));
      return Reflect.get(target, key, receiver);
    },
  });
  return { ...real, z };
});

/** The `z.…` members used while `load()` runs. */
async function zodUseWhile(load: () => Promise<unknown>): Promise<string[]> {
  used.length = 0;
  watching = true;
  try {
    await load();
  } finally {
    watching = false;
  }
  return [...used];
}

afterEach(() => {
  watching = false;
});

describe('module-level zod schemas are built on first use, not at load', () => {
  it('resilience-core and its subpaths', async () => {
    expect(
      await zodUseWhile(async () => {
        await import('resilience-core');
        await import('resilience-core/runtime');
        await import('resilience-core/adapters/appwrite');
        await import('resilience-core/adapters/memory');
        await import('resilience-core/app');
        await import('resilience-core/circuit-breaker');
        await import('resilience-core/deployment');
        await import('resilience-core/jobs');
        await import('resilience-core/metrics');
        await import('resilience-core/notify');
        await import('resilience-core/quota');
        await import('resilience-core/retention');
        await import('resilience-core/retry');
        await import('resilience-core/slo');
        await import('resilience-core/tracing');
      }),
    ).toEqual([]);
  });

  it.each(['create-recognition', 'job-worker', 'quota-reset', 'deploy-orchestrator'])(
    'functions/%s',
    async (name) => {
      expect(await zodUseWhile(() => import(`../../functions/${name}/src/main.ts`))).toEqual([]);
    },
  );

  it('the mock sees schema construction (the test can fail)', async () => {
    const { z } = await import('zod');
    const { lazySchema } = await import('resilience-core');
    expect(await zodUseWhile(async () => void z.string().min(1))).toEqual(['string']);
    const declared: { list?: { parse(value: unknown): unknown } } = {};
    const declaring = await zodUseWhile(async () => {
      const item = lazySchema(() => z.object({ a: z.number() }));
      declared.list = lazySchema(() => z.array(item));
    });
    expect(declaring).toEqual([]);
    expect(await zodUseWhile(async () => void declared.list?.parse([{ a: 1 }]))).toEqual([
      'array',
      'object',
      'number',
    ]);
  });
});
