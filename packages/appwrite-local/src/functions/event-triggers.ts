/**
 * Event triggers: every platform event (row create/update/delete …) starts one async execution of each enabled
 * function with an active deployment whose `events` match one of the event's names, delivered as Appwrite
 * delivers it: `POST /`, JSON body = the event payload, `x-appwrite-trigger: event`, `x-appwrite-event: <name>`.
 */
import type { PlatformEvent } from '../server-context.ts';
import type { FunctionsDeps } from './deps.ts';
import { activeDeployment, type ExecutionInput, recordExecution, runInBackground } from './executor.ts';
import { ROOT } from './store.ts';

/**
 * True when `pattern` (dot-separated, `*` = any one segment) matches `name`, or matches `name` without its
 * trailing action (`databases.*.tables.*.rows.*` matches every row action), as Appwrite's generated events do.
 * Pass `name` as its segments when an id may contain `.` (Appwrite ids may): `*` then stands for the whole id,
 * as in Appwrite, which substitutes `*` for each id parameter rather than splitting the name.
 */
export function eventMatches(pattern: string, name: string | readonly string[]): boolean {
  const p = pattern.split('.');
  const n = typeof name === 'string' ? name.split('.') : [...name];
  // Segment by segment: `*` takes one whole segment; a literal must spell the segment out (dots included).
  const same = (parts: string[]): boolean => {
    let at = 0;
    for (const seg of parts) {
      if (p[at] === '*') {
        at++;
        continue;
      }
      for (const piece of seg.split('.')) if (p[at++] !== piece) return false;
    }
    return at === p.length;
  };
  return same(n) || same(n.slice(0, -1));
}

/** Handles one platform event; returns the ids of the executions started. */
export function onPlatformEvent(deps: FunctionsDeps, event: PlatformEvent): string[] {
  const started: string[] = [];
  for (const fn of deps.store.functions.list(ROOT)) {
    if (!fn.enabled || fn.events.length === 0) continue;
    const name = event.names.find((n, i) =>
      fn.events.some((pattern) => eventMatches(pattern, event.segments?.[i] ?? n)),
    );
    if (!name) continue;
    let deploymentId: string;
    try {
      deploymentId = activeDeployment(deps, fn);
    } catch {
      continue;
    }
    const input: ExecutionInput = {
      trigger: 'event',
      method: 'POST',
      path: '/',
      headers: {},
      body: Buffer.from(JSON.stringify(event.payload)),
      event: name,
    };
    const record = recordExecution(deps, fn, input, { status: 'waiting', deploymentId });
    runInBackground(deps, record, input, deploymentId);
    started.push(record.$id);
  }
  return started;
}
