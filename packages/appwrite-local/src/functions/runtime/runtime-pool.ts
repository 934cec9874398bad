/**
 * Warm processes, at most one live process per function, as Appwrite keeps one warm runtime per function
 * deployment. A process is reused while its deployment and environment are unchanged; when either changes
 * (a new deployment activated, a variable edited) the old process is retired — it finishes its in-flight
 * executions and exits — and the next execution cold-starts a new one. A dead process is replaced.
 */
import { createHash } from 'node:crypto';
import { RuntimeProcess, type RuntimeProcessOptions } from './runtime-process.ts';

interface Slot {
  /** Identifies what the process runs: deployment id + env hash. */
  key: string;
  deploymentId: string;
  process: Promise<RuntimeProcess>;
}

/** What the pool needs to start a function's process. */
export interface PoolTarget extends RuntimeProcessOptions {
  functionId: string;
  deploymentId: string;
}

/** The set of warm function processes of one server. */
export class RuntimePool {
  private readonly slots = new Map<string, Slot>();
  private readonly retiring = new Set<Promise<RuntimeProcess | undefined>>();
  /** Cold starts performed (for tests and diagnostics). */
  coldStarts = 0;

  /** The warm process for the target, started (cold start) when missing, dead or outdated. */
  async acquire(target: PoolTarget): Promise<RuntimeProcess> {
    const key = `${target.deploymentId}:${envHash(target)}`;
    const slot = this.slots.get(target.functionId);
    if (slot && slot.key === key) {
      const proc = await slot.process.catch(() => undefined);
      if (proc?.alive) return proc;
      // Dead or failed to start: replace it, unless a concurrent caller already did.
      if (this.slots.get(target.functionId) !== slot) return this.acquire(target);
    } else if (slot) {
      this.retire(slot);
    }
    this.coldStarts++;
    const fresh: Slot = { key, deploymentId: target.deploymentId, process: RuntimeProcess.start(target) };
    this.slots.set(target.functionId, fresh);
    return fresh.process;
  }

  /** Retires the function's process (deployment deactivated, function deleted). */
  release(functionId: string): void {
    const slot = this.slots.get(functionId);
    if (!slot) return;
    this.slots.delete(functionId);
    this.retire(slot);
  }

  /** The deployment whose process is currently warm for a function, if any. */
  warmDeployment(functionId: string): string | undefined {
    return this.slots.get(functionId)?.deploymentId;
  }

  /** Kills every process now (server shutdown). */
  async stopAll(): Promise<void> {
    const all = [...this.slots.values()];
    this.slots.clear();
    const processes = [...all.map((slot) => slot.process.catch(() => undefined)), ...this.retiring];
    await Promise.all(processes.map(async (p) => (await p)?.kill('server stopped')));
  }

  private retire(slot: Slot): void {
    const proc = slot.process.catch(() => undefined);
    this.retiring.add(proc);
    void (async () => {
      const p = await proc;
      // Let in-flight executions finish on the old deployment (their own timeouts bound the wait).
      while (p?.alive && p.inFlight > 0) await new Promise((r) => setTimeout(r, 50));
      await p?.kill('retired');
      this.retiring.delete(proc);
    })();
  }
}

function envHash(target: PoolTarget): string {
  const entries = Object.entries(target.env).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([target.codeDir, target.entrypoint, entries]))
    .digest('hex')
    .slice(0, 16);
}
