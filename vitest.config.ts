import { defineConfig } from 'vitest/config';

// One vitest run covers every workspace: co-located unit tests and the cross-package tests in test/.
export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'functions/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
