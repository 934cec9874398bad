import { defineConfig } from 'vitest/config';

/**
 * Two projects, one rule for where a test lives:
 * - `unit`: runs in-process, with no server and no child process (memory adapter, ManualClock). A test of one
 *   module sits beside it (`src/**\/x.test.ts`); a cross-package one goes in `test/unit/`. `npm run test:unit`
 *   runs them in seconds: the inner loop.
 * - `local`: everything else in `test/` — the real SDK, CLI and bundles against appwrite-local, child processes,
 *   Chromium, the conformance and resilience suites. `npm run test:local` (builds first).
 * `npm test` runs both, after build, lint and type-check.
 */
const unit = [
  'packages/*/src/**/*.test.ts',
  'functions/*/src/**/*.test.ts',
  'scripts/**/*.test.ts',
  'test/unit/**/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      // Unit files need no process of their own: worker threads start faster than forks.
      { extends: true, test: { name: 'unit', include: unit, pool: 'threads' } },
      { extends: true, test: { name: 'local', include: ['test/**/*.test.ts'], exclude: ['test/unit/**'] } },
    ],
  },
});
