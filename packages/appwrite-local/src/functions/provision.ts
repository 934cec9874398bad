/**
 * Provisioning from appwrite.json: each `functions[]` entry is created, or its settings updated when it exists
 * (like `appwrite push functions --no-code`). Deployments are not made here: upload code with deployFunction()
 * (deploy.ts) or the CLI. An invalid entry fails the server start with a message naming it.
 */
import { AppwriteError } from '../errors.ts';
import { resolveId } from '../wire.ts';
import type { FunctionsDeps } from './deps.ts';
import { newFunctionRecord, parseFunctionSettings, parseRuntime } from './function-input.ts';
import { ROOT } from './store.ts';

/** Creates or updates the functions listed in the config; returns their ids. */
export function provisionFunctions(
  deps: FunctionsDeps,
  entries: ReadonlyArray<Record<string, unknown>>,
): string[] {
  const ids: string[] = [];
  for (const entry of entries) {
    const label = String(entry.$id ?? '?');
    try {
      const id = resolveId(entry.$id, '$id');
      const runtime = parseRuntime(entry.runtime);
      const settings = parseFunctionSettings(entry);
      const now = deps.ctx.clock.now();
      const existing = deps.store.functions.get(ROOT, id);
      if (existing) {
        deps.store.functions.put(ROOT, { ...existing, ...settings, runtime, $updatedAt: now });
      } else {
        deps.store.functions.insert(ROOT, newFunctionRecord(id, runtime, settings, now));
      }
      ids.push(id);
    } catch (e) {
      const why = e instanceof AppwriteError ? e.message : (e as Error).message;
      throw new Error(`appwrite-local: config function "${label}" is invalid: ${why}`);
    }
  }
  return ids;
}
