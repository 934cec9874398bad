/** What the functions module's parts share: the server context, the store, the warm processes, the code dirs. */
import { join } from 'node:path';
import type { ServerContext } from '../server-context.ts';
import type { RuntimePool } from './runtime/runtime-pool.ts';
import type { FunctionsStore } from './store.ts';

/** Shared state of one functions module instance (one per server). */
export interface FunctionsDeps {
  ctx: ServerContext;
  store: FunctionsStore;
  pool: RuntimePool;
  /** Directory holding uploaded archives, partial uploads and built code. */
  codeRoot: string;
  /** The server's endpoint (`http://127.0.0.1:PORT/v1`), known once it listens. */
  endpoint: string;
  /** Work started in the background (builds, async executions); awaited on stop. */
  background: Set<Promise<unknown>>;
  /** True once stop() began: no new background work starts. */
  stopping: boolean;
  /** Executions running now (sent to a runtime, not yet answered), of every trigger. */
  running: number;
  /** The executor's secret (`OPEN_RUNTIMES_SECRET`), random per server; it signs the runtime requests. */
  runtimeSecret: string;
}

/** Where a deployment's uploaded archive lives. */
export function sourcePath(deps: FunctionsDeps, deploymentId: string): string {
  return join(deps.codeRoot, 'sources', `${deploymentId}.tar.gz`);
}

/** Where a deployment's built code lives (the runtime's cwd). */
export function buildDir(deps: FunctionsDeps, deploymentId: string): string {
  return join(deps.codeRoot, 'builds', deploymentId);
}

/** Runs `work` in the background, tracked so stop() can wait for it; failures are logged, never thrown. */
export function inBackground(deps: FunctionsDeps, label: string, work: () => Promise<unknown>): void {
  if (deps.stopping) return;
  const p: Promise<unknown> = work().catch((e: unknown) =>
    deps.ctx.log(`functions: ${label} failed: ${(e as Error).stack ?? String(e)}`),
  );
  deps.background.add(p);
  void p.finally(() => deps.background.delete(p));
}
