/**
 * Restart recovery for a server with a data directory: work that was in flight when the previous process
 * stopped is settled. Queued (`waiting`) executions run now; ones that were `processing` are marked `failed`
 * (their outcome is unknown); builds that had their whole archive are rebuilt, partial uploads fail.
 * `scheduled` executions need nothing: the scheduler starts them when due.
 */
import { existsSync } from 'node:fs';
import { buildDeployment } from './build.ts';
import { type FunctionsDeps, inBackground, sourcePath } from './deps.ts';
import { pendingInput, runInBackground } from './executor.ts';
import { ROOT } from './store.ts';

/** Settles the previous run's in-flight executions and builds. */
export function recoverInterrupted(deps: FunctionsDeps): void {
  const now = deps.ctx.clock.now();
  for (const fn of deps.store.functions.list(ROOT)) {
    for (const e of deps.store.executions.list(fn.$id)) {
      if (e.status === 'waiting') runInBackground(deps, e, pendingInput(e), e.deploymentId);
      else if (e.status === 'processing') {
        deps.store.executions.put(fn.$id, {
          ...e,
          status: 'failed',
          responseStatusCode: 500,
          errors: 'The server stopped while this execution was running.',
          $updatedAt: now,
        });
      }
    }
    for (const d of deps.store.deployments.list(fn.$id)) {
      if (d.status !== 'waiting' && d.status !== 'processing' && d.status !== 'building') continue;
      if (existsSync(sourcePath(deps, d.$id))) {
        inBackground(deps, `build ${d.$id}`, () => buildDeployment(deps, fn.$id, d.$id));
      } else {
        deps.store.deployments.put(fn.$id, {
          ...d,
          status: 'failed',
          buildLogs: `${d.buildLogs}\nThe upload was interrupted by a server restart; upload the code again.`,
          $updatedAt: now,
        });
      }
    }
  }
}
