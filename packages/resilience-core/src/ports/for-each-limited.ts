/**
 * Runs `fn` over `items`, at most `limit` at a time: bounded concurrency, the one place it is written. `limit`
 * workers (at least 1, at most one per item) take the next item in order until none is left. The first failure
 * rejects the whole call (workers already running finish their current item and keep taking items, as with any
 * `Promise.all`); callers that must not stop catch inside `fn`.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
