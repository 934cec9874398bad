import type { Reporter, TestModule } from 'vitest/node';

/**
 * Same value as `CONFORMANCE_PREFIX` in test/conformance/harness.ts; copied, not imported, because the harness
 * imports vitest's test API, which this reporter (loaded by the vitest main process) must not.
 */
const CONFORMANCE_PREFIX = '[upstream ';

/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary, so CI logs
 * state the count in a form any reader (human or tool) can take in at a glance. Before it, when the run
 * included the conformance suite (test/conformance, issue 10), the upstream figures: assertions that passed,
 * cases passed/failed, and every skipped case with its reason.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const conformance = { passed: 0, failed: 0, assertions: 0, skipped: [] as string[] };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        if (!test.name.startsWith(CONFORMANCE_PREFIX)) continue;
        if (state === 'passed') {
          conformance.passed++;
          const counted = (test.meta() as { upstreamAssertions?: unknown }).upstreamAssertions;
          if (typeof counted === 'number') conformance.assertions += counted;
        } else if (state === 'failed') conformance.failed++;
        else conformance.skipped.push(test.name);
      }
      if (module.state() === 'failed' && module.children.size === 0) failed++;
    }
    const cases = conformance.passed + conformance.failed + conformance.skipped.length;
    if (cases > 0) {
      console.log(
        `\nconformance (Appwrite 1.9.5 e2e, translated): ${conformance.assertions} upstream assertions passed in ` +
          `${conformance.passed} cases; ${conformance.failed} cases failed; ${conformance.skipped.length} skipped`,
      );
      for (const name of conformance.skipped) console.log(`  skipped ${name}`);
    }
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
