import { afterEach, expect, it } from 'vitest';

/**
 * The conformance suite: Appwrite's own end-to-end tests at tag 1.9.5 (github.com/appwrite/appwrite,
 * `tests/e2e/Services/**`), translated to node-appwrite and run against appwrite-local.
 *
 * Rules (issue 10): every case names its upstream file:line; an assertion is never weakened; a case the local
 * server does not serve is listed with {@link skipUpstream} and its reason, never deleted. The summary reporter
 * (scripts/summary-reporter.ts) prints the upstream assertions that passed, the cases and the skipped ones.
 *
 * Usage, in `test/conformance/<area>.test.ts`:
 * ```ts
 * installAssertionCounter();
 * upstream('Databases/DatabasesBase.php:123', 'creates a row', async () => { expect(...).toBe(...) });
 * skipUpstream('Databases/DatabasesBase.php:456', 'relationship columns', 'relationships are not served');
 * ```
 * `ref` is relative to `tests/e2e/Services/` upstream.
 */

/** Upstream tag every reference points at. */
export const UPSTREAM_TAG = '1.9.5';

/** Test-name prefix that marks a conformance case for the reporter. */
export const CONFORMANCE_PREFIX = '[upstream ';

/** A translated upstream case: `ref` is `Area/File.php:line` at tag 1.9.5. */
export function upstream(
  ref: string,
  title: string,
  fn: () => Promise<void> | void,
  timeoutMs?: number,
): void {
  it(
    `${CONFORMANCE_PREFIX}${ref}] ${title}`,
    async () => {
      // A translated case asserts what upstream asserts; one that makes no assertion must not pass as counted.
      expect.hasAssertions();
      await fn();
    },
    timeoutMs,
  );
}

/** An upstream case the local server does not serve, with the reason (printed in the summary). */
export function skipUpstream(ref: string, title: string, reason: string): void {
  it.skip(`${CONFORMANCE_PREFIX}${ref}] ${title} — skipped: ${reason}`, () => {});
}

/**
 * Records each case's assertion count in its task meta (`upstreamAssertions`), read by the summary reporter.
 * Call once at the top of every conformance file.
 */
export function installAssertionCounter(): void {
  afterEach((context) => {
    if (!context.task.name.startsWith(CONFORMANCE_PREFIX)) return;
    (context.task.meta as Record<string, unknown>).upstreamAssertions = expect.getState().assertionCalls;
  });
}
