import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const core = path.join(repo, 'packages/resilience-core/src');

/** Every non-test `.ts` file under `dir`, skipping `testing/` folders. */
function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !file.split(path.sep).includes('testing'));
}

const productionRoots = [
  core,
  path.join(repo, 'packages/ops-console/src'),
  ...readdirSync(path.join(repo, 'functions')).map((fn) => path.join(repo, 'functions', fn, 'src')),
];

describe('test doubles live under testing/ and production code never imports them', () => {
  it('no production module imports resilience-core/testing or a testing/ folder', () => {
    const offenders = productionRoots
      .flatMap(productionFiles)
      .filter((file) =>
        /from\s+['"](?:resilience-core\/testing|[./]+(?:[^'"]*\/)?testing\/)[^'"]*['"]/.test(
          readFileSync(file, 'utf8'),
        ),
      )
      .map((file) => path.relative(repo, file));
    expect(offenders).toEqual([]);
  });

  it('the service entry points export no test doubles; resilience-core/testing does', async () => {
    const runtime: Record<string, unknown> = await import('resilience-core/runtime');
    const slo: Record<string, unknown> = await import('resilience-core/slo');
    const deployment: Record<string, unknown> = await import('resilience-core/deployment');
    expect(Object.keys(runtime).filter((k) => ['invoke', 'createFakeContext'].includes(k))).toEqual([]);
    expect(Object.keys(slo)).not.toContain('memoryExecutionCounter');
    expect(Object.keys(deployment)).not.toContain('SimulatedFunctionsPlatform');
    const testing = await import('resilience-core/testing');
    expect(typeof testing.invoke).toBe('function');
    expect(typeof testing.createFakeContext).toBe('function');
    expect(typeof testing.memoryExecutionCounter).toBe('function');
    expect(typeof testing.SimulatedFunctionsPlatform).toBe('function');
  });

  it('no test double is left in a service folder', () => {
    const doubles = productionFiles(core)
      .map((file) => path.relative(core, file))
      .filter((rel) => /(^|\/)(fake-|simulated-|memory-execution-counter)/.test(rel));
    expect(doubles).toEqual([]);
  });
});
